"""`chatops doctor` for X: for each account, which credential works, which one does not."""

from __future__ import annotations

import aiohttp
from tweepy.asynchronous import AsyncClient
from tweepy.errors import HTTPException

from adapters.social.x.config import XAccountConfig
from adapters.social.x.session import RootedSession
from chatops.runtime.settings import Settings

Check = tuple[bool, str]


async def check_x(settings: Settings) -> list[Check]:
    """Each X account's keys against GET /2/users/me and its bearer token with a read."""
    results: list[Check] = []
    for spec in settings.social_accounts:
        if spec.network == "x":
            results += await check_account(XAccountConfig.from_settings(settings, spec))
    return results


async def check_account(config: XAccountConfig) -> list[Check]:
    # The single-account settings' lines read as they always did ("X: ...").
    name = "X" if config.handle is None else f"X @{config.handle}"
    session = RootedSession(config.base_url, timeout=config.timeout)
    results: list[Check] = []
    handle = config.handle
    try:
        if not config.missing_user_context:
            key, secret, token, token_secret = (
                s.get_secret_value() for s in config.user_secrets if s
            )
            writer = AsyncClient(
                consumer_key=key,
                consumer_secret=secret,
                access_token=token,
                access_token_secret=token_secret,
                return_type=aiohttp.ClientResponse,
            )
            writer.session = session
            try:
                me = (await (await writer.get_me()).json())["data"]
                results.append(_identity(name, config, me))
                handle = handle or me["username"]
            except HTTPException as error:
                results.append(
                    (False, f"{name}: {config.user_context} were refused ({_status(error)})")
                )
        else:
            missing = ", ".join(config.missing_user_context)
            results.append((False, f"{name}: cannot publish: {missing} not set"))
        if config.bearer_token is not None:
            reader = AsyncClient(
                bearer_token=config.bearer_token.get_secret_value(),
                return_type=aiohttp.ClientResponse,
            )
            reader.session = session
            try:
                await reader.get_user(username=handle or "X")
                results.append((True, f"{name}: {config.bearer_name} works for reading"))
            except HTTPException as error:
                results.append(
                    (False, f"{name}: {config.bearer_name} was refused ({_status(error)})")
                )
        else:
            results.append((False, f"{name}: cannot read: {config.bearer_name} not set"))
    except (aiohttp.ClientError, TimeoutError) as error:
        results.append((False, f"{name}: cannot reach {config.base_url} ({type(error).__name__})"))
    finally:
        await session.close()
    return results


def _identity(name: str, config: XAccountConfig, me: dict[str, str]) -> Check:
    """The keys work; but are they this account's?"""
    username = me["username"]
    if config.handle is not None and username.lower() != config.handle.lower():
        return (
            False,
            f"{name}: {config.user_context} are the keys of @{username}, not of "
            f"@{config.handle}: set the keys of @{config.handle}",
        )
    return (True, f"{name}: {config.user_context} work: posting as @{username} (id {me['id']})")


def _status(error: HTTPException) -> str:
    return f"HTTP {getattr(error.response, 'status', '?')}"
