"""`chatops doctor` for X: which credential works, which one does not."""

from __future__ import annotations

import aiohttp
from tweepy.asynchronous import AsyncClient
from tweepy.errors import HTTPException

from adapters.social.x.network import BEARER, USER_CONTEXT
from adapters.social.x.session import RootedSession
from chatops.runtime.settings import Settings

Check = tuple[bool, str]


async def check_x(settings: Settings) -> list[Check]:
    session = RootedSession(settings.x_api_base_url, timeout=settings.x_timeout_seconds)
    results: list[Check] = []
    handle = None
    try:
        secrets = (
            settings.x_api_key,
            settings.x_api_secret,
            settings.x_access_token,
            settings.x_access_token_secret,
        )
        if all(secrets):
            key, secret, token, token_secret = (s.get_secret_value() for s in secrets if s)
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
                handle = me["username"]
                results.append(
                    (True, f"X: {USER_CONTEXT} work: posting as @{handle} (id {me['id']})")
                )
            except HTTPException as error:
                results.append((False, f"X: {USER_CONTEXT} were refused ({_status(error)})"))
        if settings.x_bearer_token is not None:
            reader = AsyncClient(
                bearer_token=settings.x_bearer_token.get_secret_value(),
                return_type=aiohttp.ClientResponse,
            )
            reader.session = session
            try:
                await reader.get_user(username=handle or "X")
                results.append((True, f"X: {BEARER} works for reading"))
            except HTTPException as error:
                results.append((False, f"X: {BEARER} was refused ({_status(error)})"))
    except (aiohttp.ClientError, TimeoutError) as error:
        results.append(
            (False, f"X: cannot reach {settings.x_api_base_url} ({type(error).__name__})")
        )
    finally:
        await session.close()
    return results


def _status(error: HTTPException) -> str:
    return f"HTTP {getattr(error.response, 'status', '?')}"
