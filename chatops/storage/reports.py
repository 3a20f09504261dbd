"""Queries behind digests, spike watch, the reply inbox and response-time statistics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import ChannelRef
from chatops.storage.tables import (
    AlertRow,
    ChannelSettingsRow,
    MentionRow,
    SpikeStateRow,
    SubscriptionMatchRow,
    SubscriptionRow,
)

AlertWithMention = tuple[AlertRow, MentionRow]


def _in_channel(channel: ChannelRef) -> tuple[ColumnElement[bool], ...]:
    return (
        AlertRow.platform == channel.platform,
        AlertRow.workspace_id == channel.workspace_id,
        AlertRow.channel_id == channel.channel_id,
    )


class ReportStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscribed_channels(self) -> list[ChannelRef]:
        rows = await self.session.execute(
            select(
                SubscriptionRow.platform, SubscriptionRow.workspace_id, SubscriptionRow.channel_id
            )
            .where(SubscriptionRow.active.is_(True))
            .distinct()
        )
        return [ChannelRef(p, c, w) for p, w, c in rows]

    async def settings_of(self, channel: ChannelRef, *, now: datetime) -> ChannelSettingsRow:
        """The channel's digest settings, created (hourly, starting now) on first use."""
        row = await self.session.scalar(
            select(ChannelSettingsRow).where(
                ChannelSettingsRow.platform == channel.platform,
                ChannelSettingsRow.workspace_id == channel.workspace_id,
                ChannelSettingsRow.channel_id == channel.channel_id,
            )
        )
        if row is None:
            row = ChannelSettingsRow(
                platform=channel.platform,
                workspace_id=channel.workspace_id,
                channel_id=channel.channel_id,
                digest="hourly",
                digest_at="08:00",
                last_digest_at=now,
            )
            self.session.add(row)
            await self.session.flush()
        return row

    async def alerts_between(
        self, channel: ChannelRef, since: datetime, until: datetime
    ) -> list[AlertWithMention]:
        rows = await self.session.execute(
            select(AlertRow, MentionRow)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(*_in_channel(channel), AlertRow.created_at >= since, AlertRow.created_at < until)
            .order_by(AlertRow.id)
        )
        return [(a, m) for a, m in rows]

    async def open_questions(self, channel: ChannelRef, limit: int = 10) -> list[AlertWithMention]:
        rows = await self.session.execute(
            select(AlertRow, MentionRow)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(
                *_in_channel(channel), AlertRow.is_question.is_(True), AlertRow.state != "handled"
            )
            .order_by(AlertRow.id)
            .limit(limit)
        )
        return [(a, m) for a, m in rows]

    async def awaiting_answer(self, channel: ChannelRef, limit: int) -> list[AlertWithMention]:
        """Open questions of the channel, soonest deadline first (those without one last)."""
        rows = await self.session.execute(
            select(AlertRow, MentionRow)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(
                *_in_channel(channel), AlertRow.is_question.is_(True), AlertRow.state != "handled"
            )
            .order_by(AlertRow.due_at.is_(None), AlertRow.due_at, AlertRow.id)
            .limit(limit)
        )
        return [(a, m) for a, m in rows]

    async def awaiting_digest(self, channel: ChannelRef) -> list[AlertWithMention]:
        rows = await self.session.execute(
            select(AlertRow, MentionRow)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(
                *_in_channel(channel), AlertRow.delivery == "digest", AlertRow.digested_at.is_(None)
            )
            .order_by(MentionRow.score.desc(), AlertRow.id)
        )
        return [(a, m) for a, m in rows]

    async def overdue_questions(
        self, now: datetime, platforms: Sequence[str]
    ) -> list[AlertWithMention]:
        rows = await self.session.execute(
            select(AlertRow, MentionRow)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(
                AlertRow.platform.in_(platforms),
                AlertRow.is_question.is_(True),
                AlertRow.state != "handled",
                AlertRow.due_at < now,
                AlertRow.resurfaced_at.is_(None),
            )
            .order_by(AlertRow.id)
            .with_for_update(skip_locked=True, of=AlertRow)
        )
        return [(a, m) for a, m in rows]

    async def alert_times(self, subscription_id: int, since: datetime) -> list[datetime]:
        return list(
            await self.session.scalars(
                select(MentionRow.created_at)
                .join(AlertRow, AlertRow.mention_id == MentionRow.id)
                .where(AlertRow.subscription_id == subscription_id, MentionRow.created_at > since)
            )
        )

    async def mention_times(self, since: datetime) -> list[datetime]:
        return list(
            await self.session.scalars(
                select(MentionRow.created_at).where(MentionRow.created_at > since)
            )
        )

    async def recent_mentions(
        self, since: datetime, subscription_id: int | None = None, limit: int = 500
    ) -> list[MentionRow]:
        query = select(MentionRow).where(MentionRow.created_at > since)
        if subscription_id is not None:
            query = query.join(AlertRow, AlertRow.mention_id == MentionRow.id).where(
                AlertRow.subscription_id == subscription_id
            )
        query = query.order_by(MentionRow.score.desc()).limit(limit)
        return list(await self.session.scalars(query))

    async def spike_state(self, key: str, *, now: datetime) -> SpikeStateRow:
        row = await self.session.get(SpikeStateRow, key, with_for_update=True)
        if row is None:
            row = SpikeStateRow(key=key, active=False, started_at=None, updated_at=now)
            self.session.add(row)
            await self.session.flush()
        return row

    async def response_times(self, since: datetime) -> list[float]:
        """Seconds from each answered question to its first response, answered since `since`."""
        rows = await self.session.execute(
            select(AlertRow.responded_at, MentionRow.created_at)
            .join(MentionRow, MentionRow.id == AlertRow.mention_id)
            .where(AlertRow.is_question.is_(True), AlertRow.responded_at >= since)
        )
        return [
            max(0.0, (answered - asked).total_seconds())
            for answered, asked in rows
            if answered is not None
        ]

    async def match_counts_since(
        self, subscription_ids: Sequence[int], since: datetime
    ) -> dict[int, int]:
        """How many alerted mentions each subscription matched since `since`, including
        those another rule of its channel matched too (the alert names only the first)."""
        rows = await self.session.execute(
            select(SubscriptionMatchRow.subscription_id, func.count())
            .where(
                SubscriptionMatchRow.subscription_id.in_(subscription_ids),
                SubscriptionMatchRow.created_at >= since,
            )
            .group_by(SubscriptionMatchRow.subscription_id)
        )
        return {subscription: int(count) for subscription, count in rows}
