"""OAuth installs limited to the workspaces the agency allows (CHATOPS_WORKSPACES).

Slack says which workspace is installing only when the code is exchanged for a token, so
the refusal happens where the installation would be saved: it is not saved, the fresh
token is used once to uninstall the app from that workspace again, and the person who
installed sees a page saying why.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import structlog
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(__name__)


class WorkspaceRefused(BoltError):
    """The installing workspace is not on the allow list."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"workspace {team_id} may not install this app")
        self.team_id = team_id


class AllowedInstallations(AsyncSQLAlchemyInstallationStore):
    """The SDK's installation store, which saves only workspaces that `allows` accepts."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        engine: AsyncEngine,
        allows: Callable[[str], bool],
        base_url: str,
    ) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self._client_secret = client_secret
        self._allows = allows
        self._base_url = base_url

    async def async_save(self, installation: Installation) -> None:
        team = installation.team_id or installation.enterprise_id or ""
        if not self._allows(team):
            log.warning("slack_install_refused", team=team)
            await self._uninstall(installation)
            raise WorkspaceRefused(team)
        await super().async_save(installation)

    async def _uninstall(self, installation: Installation) -> None:
        """Leave nothing installed in a workspace that may not use the bot."""
        token = installation.bot_token or installation.user_token
        if not token:
            return
        client = AsyncWebClient(token=token, base_url=self._base_url)
        try:
            await client.apps_uninstall(client_id=self.client_id, client_secret=self._client_secret)
        except SlackApiError as error:
            log.warning("slack_uninstall_failed", error=error.response.get("error"))


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    return await args.default.success(args)


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    if not isinstance(args.error, WorkspaceRefused):
        return await args.default.failure(args)
    team = html.escape(args.error.team_id)
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Not installed</title></head><body><main>"
        "<h1>This workspace is not allowed to install chatops</h1>"
        f"<p>Workspace <code>{team}</code> is not on this agency's list of workspaces, "
        "so the app was removed from it again. If it should be, ask the chatops admin "
        "to add its id to <code>CHATOPS_WORKSPACES</code>, then install again.</p>"
        "</main></body></html>"
    )
    return BoltResponse(status=403, body=page, headers={"content-type": "text/html; charset=utf-8"})


CALLBACKS = AsyncCallbackOptions(success=_installed, failure=_not_installed)
