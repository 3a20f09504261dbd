"""Teams as a `ChatPort`: cards and messages are sent proactively, by conversation reference.

A conversation's reference is stored the first time the bot hears from it, so alerts,
digests and card updates reach it later from any process. With no app id (anonymous
local mode) the SDK's `continue_conversation_with_claims` is used with anonymous claims.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from microsoft_agents.activity import Activity, Attachment, ConversationReference
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, OutboundHostValidator, TurnContext

from adapters.chat.teams.cards import CONTENT_TYPE, adaptive_card
from adapters.chat.teams.plain import plain_message
from chatops.chat.cards import Card
from chatops.domain.errors import ChannelUnavailable
from chatops.domain.types import ChannelRef, MessageRef
from chatops.storage.conversations import ConversationStore
from chatops.storage.database import Database

log = structlog.get_logger(__name__)

PLATFORM = "teams"


def card_activity(card: Card, activity_id: str | None = None) -> Activity:
    return content_activity(adaptive_card(card), activity_id)


def content_activity(content: dict[str, Any], activity_id: str | None = None) -> Activity:
    """A message carrying one Adaptive Card (new, or replacing `activity_id`)."""
    return Activity(
        type="message",
        id=activity_id,
        attachments=[Attachment(content_type=CONTENT_TYPE, content=content)],
    )


class TeamsChat:
    platform = PLATFORM

    def __init__(
        self,
        adapter: CloudAdapter,
        *,
        db: Database,
        app_id: str | None,
        service_urls: OutboundHostValidator | None = None,
    ) -> None:
        self.adapter = adapter
        self.db = db
        self.app_id = app_id
        self.service_urls = service_urls

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef:
        async def send(context: TurnContext) -> str:
            response = await context.send_activity(card_activity(card))
            return str(response.id) if response is not None else ""

        return MessageRef(channel, await self._continue(channel, send))

    async def update_card(self, ref: MessageRef, card: Card) -> None:
        async def update(context: TurnContext) -> str:
            await context.update_activity(card_activity(card, ref.message_id))
            return ref.message_id

        await self._continue(ref.channel, update)

    async def post_message(
        self, channel: ChannelRef, text: str, *, thread: MessageRef | None = None
    ) -> MessageRef:
        async def send(context: TurnContext) -> str:
            activity = plain_message(text, reply_to_id=thread.message_id if thread else None)
            response = await context.send_activity(activity)
            return str(response.id) if response is not None else ""

        return MessageRef(channel, await self._continue(channel, send))

    async def warn_admins(self, workspace_id: str, text: str) -> None:
        """Teams has no admin inbox the bot can reach unprompted; the warning is logged."""
        log.warning("teams_admin_warning", text=text)

    async def _continue(
        self, channel: ChannelRef, work: Callable[[TurnContext], Awaitable[str]]
    ) -> str:
        async with self.db.transaction() as session:
            reference = await ConversationStore(session).reference(PLATFORM, channel.channel_id)
        if reference is None:
            raise ChannelUnavailable(
                channel.channel_id, "I have not been added to this conversation"
            )
        service_url = str(reference.get("serviceUrl") or "")
        if self.service_urls is not None and not self.service_urls.is_allowed(service_url):
            # Stored before service URLs were checked: the bot's token would go with the send.
            log.warning("teams_reference_refused", conversation=channel.channel_id)
            raise ChannelUnavailable(
                channel.channel_id,
                "its stored address is not a Teams service; mention me there again",
            )
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
        result: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            # The adapter's turn-error handler would swallow a failure (and post its text in
            # the conversation): keep it, so the caller learns the card was not sent/updated.
            try:
                result["value"] = await work(context)
            except Exception as error:
                result["error"] = error

        if self.app_id:
            await self.adapter.continue_conversation(self.app_id, continuation, callback)
        else:
            anonymous = ClaimsIdentity(claims={}, authentication_type="Anonymous")
            await self.adapter.continue_conversation_with_claims(anonymous, continuation, callback)
        if "error" in result:
            raise result["error"]
        return str(result.get("value", ""))
