"""Keeps every card of a draft in step with it, on whichever chat platforms show it."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

import structlog

from chatops.cards import draft_card
from chatops.domain.types import Draft, MessageRef
from chatops.ports import ChatPort

log = structlog.get_logger(__name__)


class Notifier:
    def __init__(
        self, chats: Mapping[str, ChatPort], *, zone: ZoneInfo, network_labels: Mapping[str, str]
    ) -> None:
        self.chats = dict(chats)
        self.zone = zone
        self.network_labels = dict(network_labels)

    def register(self, chat: ChatPort) -> None:
        self.chats[chat.platform] = chat

    def label(self, network: str) -> str:
        return self.network_labels.get(network, network)

    async def draft_changed(self, draft: Draft, cards: list[MessageRef], note: str) -> None:
        """Update each card in place and say in its thread who did what.

        A platform that is not served by this process is skipped; chat failures are
        logged, never raised, because the decision is already recorded.
        """
        card = draft_card(draft, zone=self.zone, network_label=self.label(draft.network))
        for ref in cards:
            chat = self.chats.get(ref.channel.platform)
            if chat is None:
                continue
            try:
                await chat.update_card(ref, card)
                if note:
                    await chat.post_message(ref.channel, note, thread=ref)
            except Exception:
                log.exception("card_update_failed", draft_id=draft.id, platform=chat.platform)
