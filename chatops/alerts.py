"""Alert delivery: posts queued alerts to the chat platforms this process serves."""

from __future__ import annotations

from datetime import timedelta

import structlog

from chatops.cards import alert_card
from chatops.clock import Clock
from chatops.notify import Notifier
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore

log = structlog.get_logger(__name__)

STALE_CLAIM = timedelta(minutes=2)


class AlertDelivery:
    def __init__(self, *, db: Database, clock: Clock, notifier: Notifier) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier

    async def deliver_pending(self, *, limit: int = 50) -> int:
        """Post undelivered alerts; a failed post goes back in the queue, never dropped."""
        platforms = list(self.notifier.chats)
        if not platforms:
            return 0
        async with self.db.transaction() as session:
            alerts = await MentionStore(session).claim_undelivered(
                platforms, now=self.clock.now(), stale_after=STALE_CLAIM, limit=limit
            )
        delivered = 0
        for alert in alerts:
            chat = self.notifier.chats[alert.channel.platform]
            card = alert_card(
                alert,
                zone=self.notifier.zone,
                network_label=self.notifier.label(alert.mention.mention.network),
            )
            message_id: str | None = None
            try:
                message_id = (await chat.post_card(alert.channel, card)).message_id
                delivered += 1
            except Exception:
                log.exception("alert_delivery_failed", alert_id=alert.id, platform=chat.platform)
            async with self.db.transaction() as session:
                await MentionStore(session).mark_delivered(
                    alert.id, message_id, now=self.clock.now()
                )
        return delivered
