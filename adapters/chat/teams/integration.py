"""Teams wired up on the project's aiohttp app with the Microsoft 365 Agents SDK.

`POST /api/messages` only: the SDK's JWT check is applied as a per-route decorator,
because its app-wide middleware would also reject `/slack/events`. With TEAMS_APP_ID
(and password and tenant) tokens are validated against the Bot Framework's keys, only
Teams activities of the agency's tenant are taken (`gate.py`), and the SDK's service-URL
validation is on: an activity's serviceUrl must be a Microsoft host and the one its token
names, so the bot's own token, sent with every reply, never goes anywhere else. Without an
app id, anonymous local mode needs TEAMS_ALLOW_ANONYMOUS=true (then `serve` binds loopback);
without that opt-in every request is refused.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import structlog
from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_decorator,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    MemoryStorage,
    OutboundHostValidator,
    TurnState,
)
from pydantic import ValidationError

from adapters.chat.teams.chat import TeamsChat
from adapters.chat.teams.gate import TEAMS_CHANNEL, ActivityGate
from adapters.chat.teams.handlers import TeamsHandlers
from chatops.core import Core
from chatops.runtime.settings import Settings
from commands import CommandRegistry

log = structlog.get_logger(__name__)

MESSAGES_PATH = "/api/messages"
AUTH_CONFIG_KEY = "agent_configuration"  # where the SDK's JWT check looks it up


def sdk_configuration(settings: Settings) -> dict[str, Any]:
    """The SDK's connection settings, built from ours rather than from its env names."""
    connection: dict[str, Any]
    if settings.teams_app_id:
        secret = settings.teams_app_password
        connection = {
            "CLIENTID": settings.teams_app_id,
            "CLIENTSECRET": secret.get_secret_value() if secret else None,
            "TENANTID": settings.teams_tenant_id,
            "AUTHTYPE": "ClientSecret",
        }
    else:
        # No identity: anonymous only when asked for; otherwise no request is authorized.
        connection = {"ANONYMOUS_ALLOWED": settings.teams_anonymous}
    return {"CONNECTIONS": {"SERVICE_CONNECTION": {"SETTINGS": connection}}}


class TeamsIntegration:
    def __init__(self, settings: Settings, *, core: Core, registry: CommandRegistry) -> None:
        self.anonymous = settings.teams_anonymous
        self.identity_problem = settings.teams_identity_problem()
        self.connections = MsalConnectionManager(**sdk_configuration(settings))
        # The SDK's service-URL validation: Microsoft hosts only, and the token's own host.
        # Off in anonymous local mode, whose connector is the developer's emulator on loopback.
        service_urls = OutboundHostValidator(enabled=True) if settings.teams_app_id else None
        self.adapter = CloudAdapter(
            connection_manager=self.connections, host_validator=service_urls
        )
        self.gate = ActivityGate(
            channel=TEAMS_CHANNEL if settings.teams_app_id else None,
            tenant=settings.teams_tenant_id or None,
        )
        self.agent: AgentApplication[TurnState] = AgentApplication[TurnState](
            storage=MemoryStorage(), connection_manager=self.connections
        )
        self.chat = TeamsChat(
            self.adapter, db=core.db, app_id=settings.teams_app_id, service_urls=service_urls
        )
        TeamsHandlers(
            core=core,
            registry=registry,
            chat=self.chat,
            approval_reactions=tuple(settings.teams_approval_reactions),
        ).register(self.agent)
        self.auth_config = self.connections.get_default_connection_configuration()

    def mount(self, app: web.Application) -> None:
        with warnings.catch_warnings():
            # The SDK's JWT check reads this plain string key; an AppKey would not be found.
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            app[AUTH_CONFIG_KEY] = self.auth_config
        app.router.add_post(MESSAGES_PATH, jwt_authorization_decorator(self.handle))  # type: ignore[no-untyped-call]
        if self.anonymous:
            log.warning(
                "teams_anonymous_mode",
                detail="TEAMS_ALLOW_ANONYMOUS=true without TEAMS_APP_ID: /api/messages accepts "
                "unauthenticated requests. For local development only.",
            )
        elif self.identity_problem is not None:
            log.error("teams_refusing_all_requests", detail=self.identity_problem)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """A malformed activity is the sender's error (400), never a 500."""
        try:
            body = json.loads(await request.text())
            if not isinstance(body, dict) or not body.get("type"):
                raise ValueError("an activity needs a type")
            if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"]:
                raise ValueError("an activity needs a serviceUrl")
            if body.get("type") == "invoke" and body.get("name") == "adaptiveCard/action":
                _check_card_action(body.get("value"))
            Activity.model_validate(body)
        except ValidationError:
            return web.json_response({"error": "not a valid activity"}, status=400)
        except ValueError as error:
            return web.json_response({"error": f"not a valid activity: {error}"[:200]}, status=400)
        refusal = self.gate.refusal(body)
        if refusal is not None:
            log.warning("teams_activity_refused", reason=refusal)
            return web.json_response({"error": refusal}, status=403)
        response = await start_agent_process(request, self.agent, self.adapter)
        return response if response is not None else web.Response(status=202)


def _check_card_action(value: object) -> None:
    """An Action.Execute invoke must say which verb, with object data, or it is not ours."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict) or not isinstance(action.get("verb"), str):
        raise ValueError("a card action needs a verb")
    if not isinstance(action.get("data", {}), dict):
        raise ValueError("a card action's data must be an object")
