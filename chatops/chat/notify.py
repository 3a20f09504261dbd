"""Keeps every card of a draft in step with it, on whichever chat platforms show it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import structlog

from chatops.chat.cards import Card, alert_card, draft_card
from chatops.domain.types import Alert, ChannelRef, Draft, MessageRef
from chatops.ports import ChatPort
from chatops.storage.database import Database
from chatops.storage.drafts import DraftStore

log = structlog.get_logger(__name__)


class Notifier:
    """`db`, when given, records which revision each draft card displays after a successful
    update (without it, cards keep the revision they were posted with, so reactions on
    updated cards are refused as outdated: safe, but unhelpful)."""

    def __init__(
        self,
        chats: Mapping[str, ChatPort],
        *,
        zone: ZoneInfo,
        network_labels: Mapping[str, str],
        db: Database | None = None,
    ) -> None:
        self.chats = dict(chats)
        self.zone = zone
        self.network_labels = dict(network_labels)
        self.db = db
        self._card_locks: weakref.WeakValueDictionary[MessageRef, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def register(self, chat: ChatPort) -> None:
        self.chats[chat.platform] = chat

    def label(self, network: str) -> str:
        return self.network_labels.get(network, network)

    async def draft_changed(self, draft: Draft, cards: list[MessageRef], note: str) -> None:
        """Update each card in place and say in its thread who did what.

        A platform that is not served by this process is skipped; chat failures are
        logged, never raised, because the decision is already recorded. Only a card whose
        update succeeded is recorded as showing `draft.revision`: a card that still shows
        an older revision keeps its old record, so a reaction on it approves nothing.
        """
        card = draft_card(draft, zone=self.zone, labels=self.label)
        for ref in cards:
            chat = self.chats.get(ref.channel.platform)
            if chat is None:
                continue
            try:
                await self._show(chat, ref, draft, card)
                if note:
                    await chat.post_message(ref.channel, note, thread=ref)
            except Exception:
                log.exception("card_update_failed", draft_id=draft.id, platform=chat.platform)

    async def without_card(self, draft: Draft, note: str) -> None:
        """News of a draft no card shows (its card could not be posted or recorded), said in
        the channel it was written in, so a publication's link is not lost with the card."""
        chat = self.chats.get(draft.author_platform)
        if chat is None or not draft.channel:
            return
        channel = ChannelRef(draft.author_platform, draft.channel, draft.workspace)
        try:
            await chat.post_message(channel, f"Draft {draft.id}: {note}")
        except Exception:
            log.exception("draft_news_failed", draft_id=draft.id, platform=chat.platform)

    async def _show(self, chat: ChatPort, ref: MessageRef, draft: Draft, card: Card) -> None:
        """Update one card and record what it now shows, one update of a card at a time, so
        the record always names the revision of the last update that reached the card."""
        lock = self._card_locks.get(ref)
        if lock is None:
            lock = self._card_locks[ref] = asyncio.Lock()
        async with lock:
            await chat.update_card(ref, card)
            if self.db is not None:
                async with self.db.transaction() as session:
                    await DraftStore(session).card_shows(ref, draft.revision)

    async def alert_changed(self, alert: Alert) -> None:
        """Show an alert's new handling state on its card, where this process can."""
        chat = self.chats.get(alert.channel.platform)
        if chat is None or alert.message is None:
            return
        card = alert_card(alert, zone=self.zone, labels=self.label)
        try:
            await chat.update_card(alert.message, card)
        except Exception:
            log.exception("alert_card_update_failed", alert_id=alert.id, platform=chat.platform)

    async def warn_all_admins(self, text: str) -> None:
        """For problems that are nobody's channel in particular (a refused credential)."""
        for platform in list(self.chats):
            await self.warn_admins(platform, "", text)

    async def warn_admins(self, platform: str, workspace_id: str, text: str) -> None:
        log.warning("admin_warning", platform=platform, workspace=workspace_id, text=text)
        chat = self.chats.get(platform)
        if chat is None:
            return
        try:
            await chat.warn_admins(workspace_id, text)
        except Exception:
            log.exception("admin_warning_failed", platform=platform)
