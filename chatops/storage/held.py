"""Alerts the per-minute cap holds back: counting a channel's minute, letting the most
notable through, and the one notice each burst gets (the rule itself:
`chatops.listening.alert_cap`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import ChannelRef
from chatops.storage.reports import ReportStore
from chatops.storage.tables import AlertRow, ChannelSettingsRow, MentionRow

HELD = "held"


def _in_channel(channel: ChannelRef) -> tuple[ColumnElement[bool], ...]:
    return (
        AlertRow.platform == channel.platform,
        AlertRow.workspace_id == channel.workspace_id,
        AlertRow.channel_id == channel.channel_id,
    )


def _settings_of(channel: ChannelRef) -> tuple[ColumnElement[bool], ...]:
    return (
        ChannelSettingsRow.platform == channel.platform,
        ChannelSettingsRow.workspace_id == channel.workspace_id,
        ChannelSettingsRow.channel_id == channel.channel_id,
    )


class HeldStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_channel(self, channel: ChannelRef) -> None:
        """Serialize the channel's cap between replicas (PostgreSQL): two workers letting
        alerts through at once would each see the same room and together exceed it."""
        await self.session.scalar(
            select(ChannelSettingsRow.id).where(*_settings_of(channel)).with_for_update()
        )

    async def queued_since(self, channel: ChannelRef, since: datetime) -> int:
        """Alerts of the channel let through after `since` (an alert queued exactly a
        minute ago no longer counts for this minute)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(AlertRow)
            .where(*_in_channel(channel), AlertRow.queued_at > since)
        )
        return int(count or 0)

    async def release(self, channel: ChannelRef, room: int, *, now: datetime) -> list[int]:
        """Let the `room` highest-scoring held alerts of the channel through (the earlier
        first among equal scores); their mentions' ids."""
        rows = (
            await self.session.execute(
                select(AlertRow.id, AlertRow.mention_id)
                .join(MentionRow, MentionRow.id == AlertRow.mention_id)
                .where(*_in_channel(channel), AlertRow.delivery == HELD)
                .order_by(MentionRow.score.desc(), AlertRow.id)
                .limit(room)
            )
        ).all()
        if rows:
            await self.session.execute(
                update(AlertRow)
                .where(AlertRow.id.in_([alert for alert, _ in rows]))
                .values(delivery="pending", queued_at=now)
            )
        return [mention for _, mention in rows]

    async def holding(self, platforms: Sequence[str]) -> dict[ChannelRef, int]:
        """Each channel on these platforms with held alerts, and how many."""
        rows = await self.session.execute(
            select(AlertRow.platform, AlertRow.workspace_id, AlertRow.channel_id, func.count())
            .where(AlertRow.platform.in_(platforms), AlertRow.delivery == HELD)
            .group_by(AlertRow.platform, AlertRow.workspace_id, AlertRow.channel_id)
        )
        return {ChannelRef(p, c, w): int(n) for p, w, c, n in rows}

    async def held(self, channel: ChannelRef) -> list[tuple[AlertRow, MentionRow]]:
        """The channel's held alerts in the order they will follow: highest score first."""
        rows = await self.session.execute(
            select(AlertRow, MentionRow)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(*_in_channel(channel), AlertRow.delivery == HELD)
            .order_by(MentionRow.score.desc(), AlertRow.id)
        )
        return [(a, m) for a, m in rows]

    async def notices_due(
        self, platforms: Sequence[str], *, now: datetime
    ) -> dict[ChannelRef, int]:
        """Channels whose cap began holding alerts since they were last told (with how many
        are held), now marked told; a channel holding nothing any more is unmarked, so its
        next burst is told again."""
        holding = await self.holding(platforms)
        marked = await self.session.execute(
            select(
                ChannelSettingsRow.platform,
                ChannelSettingsRow.workspace_id,
                ChannelSettingsRow.channel_id,
            ).where(
                ChannelSettingsRow.platform.in_(platforms),
                ChannelSettingsRow.cap_noticed_at.is_not(None),
            )
        )
        channels = {*holding, *(ChannelRef(p, c, w) for p, w, c in marked)}
        due: dict[ChannelRef, int] = {}
        for channel in sorted(channels, key=lock_order):
            locked = await self.session.scalar(
                select(ChannelSettingsRow)
                .where(*_settings_of(channel))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if channel not in holding:
                if locked is not None:
                    locked.cap_noticed_at = None
                continue
            settings = locked or await ReportStore(self.session).settings_of(channel, now=now)
            if settings.cap_noticed_at is None:
                settings.cap_noticed_at = now
                due[channel] = holding[channel]
        await self.session.flush()
        return due


def lock_order(channel: ChannelRef) -> tuple[str, str, str]:
    """The one order channels are locked in, so two transactions never wait on each other."""
    return (channel.platform, channel.workspace_id, channel.channel_id)
