"""Slack as a `ChatPort`: cards are posted with chat.postMessage and updated with chat.update.

Clients come from a resolver, so the same port serves one workspace (a bot token from
settings) or many (tokens from the OAuth installation store), in request handlers and
in background workers alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat.slack.blocks import PLATFORM as PLATFORM
from adapters.chat.slack.blocks import card_blocks, fallback_text, message_text, notice_and_card
from chatops.chat.cards import Card
from chatops.domain.errors import ChannelUnavailable
from chatops.domain.types import ChannelRef, MessageRef

log = structlog.get_logger(__name__)

LOST_CHANNEL_ERRORS = {
    "not_in_channel": "I am not a member of it",
    "channel_not_found": "it does not exist or I was removed from it",
    "is_archived": "it is archived",
    "restricted_action": "posting there is restricted",
}

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]


class SlackChat:
    platform = PLATFORM

    def __init__(self, client_for: ClientFor, *, admins: Sequence[str] = ()) -> None:
        self.client_for = client_for
        self.admins = tuple(admin for admin in admins if admin[:1] in ("U", "W"))

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef:
        client = await self.client_for(channel.workspace_id)
        response = await _call(
            channel,
            client.chat_postMessage(
                channel=channel.channel_id, text=fallback_text(card), blocks=card_blocks(card)
            ),
        )
        return MessageRef(channel, str(response["ts"]))

    async def update_card(self, ref: MessageRef, card: Card) -> None:
        client = await self.client_for(ref.channel.workspace_id)
        await _call(
            ref.channel,
            client.chat_update(
                channel=ref.channel.channel_id,
                ts=ref.message_id,
                text=fallback_text(card),
                blocks=card_blocks(card),
            ),
        )

    async def post_message(
        self, channel: ChannelRef, text: str, *, thread: MessageRef | None = None
    ) -> MessageRef:
        client = await self.client_for(channel.workspace_id)
        response = await _call(
            channel,
            client.chat_postMessage(
                channel=channel.channel_id,
                text=message_text(text),
                thread_ts=thread.message_id if thread else None,
            ),
        )
        return MessageRef(channel, str(response["ts"]))

    async def post_ephemeral(
        self, channel: ChannelRef, user: str, text: str, *, card: Card | None = None
    ) -> None:
        """A message only `user` sees, e.g. why their reaction did not approve (with the
        current `card` below it, when there is one to show)."""
        client = await self.client_for(channel.workspace_id)
        shown = notice_and_card(text, card) if card is not None else None
        try:
            await client.chat_postEphemeral(
                channel=channel.channel_id, user=user, text=message_text(text), blocks=shown
            )
        except SlackApiError as error:
            log.warning(
                "ephemeral_failed", channel=channel.channel_id, error=error.response.get("error")
            )

    async def warn_admins(self, workspace_id: str, text: str) -> None:
        """A direct message to each configured Slack admin."""
        client = await self.client_for(workspace_id)
        for admin in self.admins:
            try:
                await client.chat_postMessage(channel=admin, text=f":warning: {message_text(text)}")
            except SlackApiError as error:
                log.warning("admin_dm_failed", admin=admin, error=error.response.get("error"))


async def _call(channel: ChannelRef, request: Awaitable[object]) -> dict[str, object]:
    try:
        response = await request
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        if code in LOST_CHANNEL_ERRORS:
            raise ChannelUnavailable(channel.channel_id, LOST_CHANNEL_ERRORS[code]) from error
        raise
    data = getattr(response, "data", response)
    return dict(data) if isinstance(data, dict) else {}
