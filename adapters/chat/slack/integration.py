"""Slack wired up: the bolt app, its HTTP routes on our aiohttp app, or Socket Mode.

HTTP mode mounts `POST /slack/events` (commands, interactivity and events at one URL)
through bolt's aiohttp translation functions; with `SLACK_APP_TOKEN`, Socket Mode
connects out instead, so no public endpoint is needed. With `SLACK_CLIENT_ID` and
`SLACK_CLIENT_SECRET`, the OAuth install routes serve many workspaces, with their
installations kept in the project's database.
"""

from __future__ import annotations

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat.slack.chat import SlackChat
from adapters.chat.slack.inbound import malformed, signed
from adapters.chat.slack.installs import CALLBACKS, AllowedInstallations
from adapters.chat.slack.listeners import SlackHandlers
from chatops.core import Core
from chatops.runtime.settings import Settings
from commands import CommandRegistry

log = structlog.get_logger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "reactions:read",
    "channels:read",
    "groups:read",
    "im:write",
    "users:read",
)


def slack_configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token or settings.slack_client_id)


class SlackIntegration:
    def __init__(self, settings: Settings, *, core: Core, registry: CommandRegistry) -> None:
        self.base_url = settings.slack_api_base_url
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        self.client = _client(token, self.base_url)
        self.app_token = (
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        )
        self.installations: AsyncSQLAlchemyInstallationStore | None = None
        oauth_settings = None
        if settings.slack_client_id and settings.slack_client_secret:
            self.installations = AllowedInstallations(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                engine=core.db.engine,
                allows=core.role_policy.allows_workspace,
                base_url=self.base_url,
            )
            oauth_settings = AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                scopes=list(BOT_SCOPES),
                installation_store=self.installations,
                callback_options=CALLBACKS,
                state_store=AsyncSQLAlchemyOAuthStateStore(
                    expiration_seconds=600, engine=core.db.engine
                ),
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
            )
        signing = settings.slack_signing_secret
        self.verifier = (
            SignatureVerifier(signing.get_secret_value())
            if signing and not self.app_token
            else None
        )
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing.get_secret_value() if signing else None,
            request_verification_enabled=self.app_token is None,
            oauth_settings=oauth_settings,
        )
        self._clients: dict[str, AsyncWebClient] = {}
        self._session: aiohttp.ClientSession | None = None
        self.chat = SlackChat(self.client_for, admins=settings.admins)
        SlackHandlers(
            core=core, registry=registry, chat=self.chat, http_session=lambda: self._session
        ).register(self.app)
        self.socket: AsyncSocketModeHandler | None = None
        if self.app_token:
            self.socket = AsyncSocketModeHandler(
                self.app, self.app_token, web_client=_client(None, self.base_url)
            )

    async def client_for(self, team_id: str) -> AsyncWebClient:
        """The workspace's bot client: the one token, or the installation's token."""
        if self.installations is None:
            return self.client
        cached = self._clients.get(team_id)
        if cached is not None:
            return cached
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise LookupError(f"Slack workspace {team_id} has not installed the app")
        client = _client(bot.bot_token, self.base_url)
        client.session = self._session
        self._clients[team_id] = client
        return client

    def mount(self, app: web.Application) -> None:
        """Add the Slack routes to the project's one aiohttp application."""
        if self.socket is None:
            app.router.add_post(EVENTS_PATH, self.handle_events)
        if self.app.oauth_flow is not None:
            app.router.add_get(INSTALL_PATH, self.handle_install)
            app.router.add_get(REDIRECT_PATH, self.handle_redirect)

    async def handle_events(self, request: web.Request) -> web.Response:
        """Forged or unsigned: 401. Malformed: 400. A failure inside: logged, and 400."""
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "the body is not UTF-8"}, status=400)
        if self.verifier is not None and not signed(self.verifier, body, request.headers):
            return web.json_response({"error": "invalid or missing signature"}, status=401)
        problem = malformed(body, request.content_type)
        if problem:
            return web.json_response({"error": problem}, status=400)
        try:
            response = await self.app.async_dispatch(await to_bolt_request(request))
        except Exception:
            log.exception("slack_request_failed")
            return web.json_response({"error": "the request could not be handled"}, status=400)
        if response.status >= 500:
            log.error("slack_request_failed", status=response.status)
            return web.json_response({"error": "the request could not be handled"}, status=400)
        return await to_aiohttp_response(response)

    async def handle_install(self, request: web.Request) -> web.Response:
        assert self.app.oauth_flow is not None
        response = await self.app.oauth_flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def handle_redirect(self, request: web.Request) -> web.Response:
        assert self.app.oauth_flow is not None
        response = await self.app.oauth_flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self, *, listen: bool = True) -> None:
        """Share one HTTP session for every Web API call (a session per call costs a new
        connection each time); with `listen`, Socket Mode connects, and the SDK
        reconnects by itself if the socket drops."""
        self._session = aiohttp.ClientSession()
        for client in (self.client, *self._clients.values()):
            client.session = self._session
        if listen and self.socket is not None:
            await self.socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self._session is not None:
            await self._session.close()
            self._session = None


def _client(token: str | None, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries 5xx, never drops."""
    client = AsyncWebClient(token=token, base_url=base_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
    return client
