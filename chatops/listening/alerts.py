"""Alert delivery: posts queued alerts to the chat platforms this process serves.

Each run first lets through the alerts the per-minute cap held (as the minute allows,
highest score first), posts what is queued, then tells each channel whose cap has just
begun holding alerts how many wait and where they will be.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from chatops.chat.cards import alert_card
from chatops.chat.notify import Notifier
from chatops.domain.errors import ChannelUnavailable
from chatops.domain.types import SYSTEM_ACTOR, Alert, ChannelRef
from chatops.listening.alert_cap import AlertCap
from chatops.runtime.clock import Clock
from chatops.runtime.health import HealthBoard
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.held import HeldStore
from chatops.storage.mentions import MentionStore

log = structlog.get_logger(__name__)

STALE_CLAIM = timedelta(minutes=2)


class AlertDelivery:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        cap: AlertCap | None = None,
        health: HealthBoard | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.cap = cap or AlertCap()
        self.health = health

    async def deliver_pending(self, *, limit: int = 50) -> int:
        """Post undelivered alerts; a failed post goes back in the queue, never dropped.

        A channel the bot can no longer post in is not retried forever: its
        subscriptions are paused and the platform's admins are told what to fix.
        """
        platforms = list(self.notifier.chats)
        if not platforms:
            return 0
        await self._release_held(platforms)
        async with self.db.transaction() as session:
            alerts = await MentionStore(session).claim_undelivered(
                platforms, now=self.clock.now(), stale_after=STALE_CLAIM, limit=limit
            )
        delivered = 0
        lost_channels: set[tuple[str, str, str]] = set()
        for alert in alerts:
            key = (alert.channel.platform, alert.channel.workspace_id, alert.channel.channel_id)
            message_id: str | None = None
            give_up = key in lost_channels
            if not give_up:
                component = f"chat:{alert.channel.platform}"
                try:
                    message_id = await self._post(alert)
                    delivered += 1
                    if self.health is not None:
                        self.health.recovered(component)
                except ChannelUnavailable as error:
                    give_up = True
                    lost_channels.add(key)
                    await self.channel_lost(alert, error.reason)
                except Exception as error:
                    log.exception("alert_delivery_failed", alert_id=alert.id)
                    if self.health is not None:
                        self.health.failing(
                            component, f"cannot post alerts: {type(error).__name__}"
                        )
            async with self.db.transaction() as session:
                await MentionStore(session).mark_delivered(
                    alert.id, message_id, now=self.clock.now(), give_up=give_up
                )
        await self._tell_held(platforms)
        return delivered

    async def _release_held(self, platforms: list[str]) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            channels = await HeldStore(session).holding(platforms)
        for channel in channels:
            async with self.db.transaction() as session:
                await self.cap.admit(session, channel, now)

    async def _tell_held(self, platforms: list[str]) -> None:
        """One notice per burst: a channel is told again only after nothing was held."""
        async with self.db.transaction() as session:
            due = await HeldStore(session).notices_due(platforms, now=self.clock.now())
        for channel, held in due.items():
            try:
                await self.notifier.chats[channel.platform].post_message(
                    channel, self.cap.notice(held)
                )
            except Exception:
                log.exception("held_notice_failed", channel=channel.channel_id)

    async def _post(self, alert: Alert) -> str:
        chat = self.notifier.chats[alert.channel.platform]
        card = alert_card(alert, zone=self.notifier.zone, labels=self.notifier.label)
        return (await chat.post_card(alert.channel, card)).message_id

    async def channel_lost(self, alert: Alert, reason: str) -> None:
        await pause_channel(self.db, self.clock, self.notifier, alert.channel, reason)


async def pause_channel(
    db: Database, clock: Clock, notifier: Notifier, channel: ChannelRef, reason: str
) -> None:
    """Stop relaying into a channel the bot lost, record it, and tell the admins."""
    now = clock.now()
    async with db.transaction() as session:
        paused = await MentionStore(session).pause_channel(channel)
        for subscription in paused:
            await AuditLog(session).record(
                at=now,
                actor=SYSTEM_ACTOR.user_id,
                platform=channel.platform,
                channel=channel.channel_id,
                workspace=channel.workspace_id,
                action="subscription_paused",
                subscription_id=subscription.id,
                reason=reason,
            )
    if paused:
        ids = ", ".join(str(s.id) for s in paused)
        await notifier.warn_admins(
            channel.platform,
            channel.workspace_id,
            f"I can no longer post in channel {channel.channel_id} ({reason}), so its "
            f"alert subscriptions ({ids}) are paused. Invite me back and subscribe again "
            "with `/alerts subscribe ...`.",
        )
