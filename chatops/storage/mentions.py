"""Mentions, the subscriptions that route them, the alerts they become, and poll cursors."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import (
    Alert,
    ChannelRef,
    Mention,
    MentionAuthor,
    MessageRef,
    StoredMention,
    Subscription,
)
from chatops.listening.scoring import Scored
from chatops.storage.tables import (
    AlertRow,
    MentionRow,
    PollCursorRow,
    SubscriptionMatchRow,
    SubscriptionRow,
)

MENTIONS = cast(Table, MentionRow.__table__)
ALERTS = cast(Table, AlertRow.__table__)
MATCHES = cast(Table, SubscriptionMatchRow.__table__)


class MentionStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(
        self,
        mentions: Sequence[Mention],
        *,
        now: datetime,
        scores: Sequence[Scored] | None = None,
    ) -> list[StoredMention]:
        """Store the mentions not seen before (with their scores); return only those, in order."""
        if not mentions:
            return []
        by_network: dict[str, set[str]] = {}
        for mention in mentions:
            by_network.setdefault(mention.network, set()).add(mention.external_id)
        known: set[tuple[str, str]] = set()
        for network, ids in by_network.items():
            rows = await self.session.execute(
                select(MentionRow.network, MentionRow.external_id).where(
                    MentionRow.network == network, MentionRow.external_id.in_(ids)
                )
            )
            known.update((n, e) for n, e in rows)
        fresh: list[Mention] = []
        values: list[dict[str, object]] = []
        for index, mention in enumerate(mentions):
            key = (mention.network, mention.external_id)
            if key in known:
                continue
            known.add(key)
            fresh.append(mention)
            values.append(_values(mention, now, scores[index] if scores is not None else None))
        if not values:
            return []
        # One multi-row INSERT ... RETURNING, in parameter order, instead of a flush per row.
        table = MENTIONS
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        new_ids = (await self.session.execute(statement, values)).scalars().all()
        return [StoredMention(int(i), m) for i, m in zip(new_ids, fresh, strict=True)]

    async def find(self, network: str, reference: str) -> StoredMention | None:
        row = await self.session.scalar(
            select(MentionRow).where(
                MentionRow.network == network,
                or_(MentionRow.external_id == reference, MentionRow.url == reference),
            )
        )
        return None if row is None else StoredMention(row.id, _mention(row))

    async def subscriptions(self, channel: ChannelRef | None = None) -> list[Subscription]:
        query = select(SubscriptionRow).where(SubscriptionRow.active.is_(True))
        if channel is not None:
            query = query.where(
                SubscriptionRow.platform == channel.platform,
                SubscriptionRow.workspace_id == channel.workspace_id,
                SubscriptionRow.channel_id == channel.channel_id,
            )
        rows = await self.session.scalars(query.order_by(SubscriptionRow.id))
        return [_subscription(row) for row in rows]

    async def subscribe(
        self, channel: ChannelRef, *, rule: str, keywords: Sequence[str], by: str, now: datetime
    ) -> Subscription:
        row = SubscriptionRow(
            platform=channel.platform,
            workspace_id=channel.workspace_id,
            channel_id=channel.channel_id,
            rule=rule,
            keywords=list(keywords),
            created_by=by,
            active=True,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _subscription(row)

    async def unsubscribe(self, channel: ChannelRef, subscription_id: int) -> Subscription | None:
        row = await self.session.scalar(
            select(SubscriptionRow).where(
                SubscriptionRow.id == subscription_id,
                SubscriptionRow.active.is_(True),
                SubscriptionRow.platform == channel.platform,
                SubscriptionRow.workspace_id == channel.workspace_id,
                SubscriptionRow.channel_id == channel.channel_id,
            )
        )
        if row is None:
            return None
        row.active = False
        await self.session.flush()
        return _subscription(row)

    async def subscriptions_of_workspace(
        self, platform: str, workspace_id: str
    ) -> list[Subscription]:
        rows = await self.session.scalars(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.active.is_(True),
                SubscriptionRow.platform == platform,
                SubscriptionRow.workspace_id == workspace_id,
            )
            .order_by(SubscriptionRow.id)
        )
        return [_subscription(row) for row in rows]

    async def pause_channel(self, channel: ChannelRef) -> list[Subscription]:
        """Deactivate a channel's subscriptions (the bot can no longer post there)."""
        paused = await self.subscriptions(channel)
        await self.session.execute(
            update(SubscriptionRow)
            .where(
                SubscriptionRow.platform == channel.platform,
                SubscriptionRow.workspace_id == channel.workspace_id,
                SubscriptionRow.channel_id == channel.channel_id,
            )
            .values(active=False)
        )
        return paused

    async def alert_row(self, alert_id: int) -> AlertRow | None:
        return await self.session.get(AlertRow, alert_id, with_for_update=True)

    async def add_alerts(self, alerts: Sequence[dict[str, object]]) -> int:
        """Insert new alerts (column values) in one statement; routing already made them unique."""
        if alerts:
            await self.session.execute(insert(ALERTS), list(alerts))
        return len(alerts)

    async def add_matches(self, matches: Sequence[dict[str, object]]) -> None:
        """Record which subscriptions matched each new alert's mention (column values)."""
        if matches:
            await self.session.execute(insert(MATCHES), list(matches))

    async def alerts_by_root(
        self, roots: Collection[str]
    ) -> dict[tuple[str, tuple[str, str, str]], AlertRow]:
        """Existing alerts by (what they repeat, channel), to collapse reposts onto."""
        if not roots:
            return {}
        rows = await self.session.scalars(select(AlertRow).where(AlertRow.root_key.in_(roots)))
        return {
            (row.root_key, (row.platform, row.workspace_id, row.channel_id)): row for row in rows
        }

    async def close_for_mention(self, mention_id: int, *, by: str, now: datetime) -> list[int]:
        """A published reply answers the mention: its open alerts are handled."""
        rows = list(
            await self.session.scalars(
                select(AlertRow).where(
                    AlertRow.mention_id == mention_id, AlertRow.state != "handled"
                )
            )
        )
        for row in rows:
            row.state = "handled"
            row.handled_by = by
            row.handled_at = now
            row.responded_at = now
        await self.session.flush()
        return [row.id for row in rows]

    async def claim_undelivered(
        self, platforms: Sequence[str], *, now: datetime, stale_after: timedelta, limit: int
    ) -> list[Alert]:
        """Alerts for these platforms not yet posted (or whose poster died), now claimed:
        the longest queued first, and of those queued together the highest score first."""
        rows = list(
            await self.session.scalars(
                select(AlertRow)
                .join(MentionRow, MentionRow.id == AlertRow.mention_id)
                .where(
                    AlertRow.platform.in_(platforms),
                    or_(
                        AlertRow.delivery == "pending",
                        (AlertRow.delivery == "sending")
                        & (AlertRow.delivery_claimed_at < now - stale_after),
                    ),
                )
                .order_by(AlertRow.queued_at, MentionRow.score.desc(), AlertRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=AlertRow)
            )
        )
        for row in rows:
            row.delivery = "sending"
            row.delivery_claimed_at = now
        await self.session.flush()
        return await self._alerts(rows)

    async def mark_delivered(
        self, alert_id: int, message_id: str | None, *, now: datetime, give_up: bool = False
    ) -> None:
        """Record where the alert was posted; or queue it again; or, if the channel is
        gone, mark it undeliverable so it is not retried forever."""
        values: dict[str, object] = {"delivered_at": now}
        if message_id is not None:
            values.update(delivery="sent", message_id=message_id)
        else:
            values["delivery"] = "undeliverable" if give_up else "pending"
        await self.session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values))

    async def alert(self, alert_id: int) -> Alert | None:
        row = await self.session.get(AlertRow, alert_id)
        return None if row is None else (await self._alerts([row]))[0]

    async def cursor(self, source: str) -> str | None:
        row = await self.session.get(PollCursorRow, source)
        return None if row is None else row.cursor

    async def save_cursor(self, source: str, cursor: str, *, now: datetime) -> None:
        row = await self.session.get(PollCursorRow, source)
        if row is None:
            self.session.add(PollCursorRow(source=source, cursor=cursor, updated_at=now))
        else:
            row.cursor = cursor
            row.updated_at = now
        await self.session.flush()

    async def _alerts(self, rows: Sequence[AlertRow]) -> list[Alert]:
        mentions = {
            row.id: row
            for row in await self.session.scalars(
                select(MentionRow).where(MentionRow.id.in_({a.mention_id for a in rows}))
            )
        }
        result = []
        for row in rows:
            channel = ChannelRef(row.platform, row.channel_id, row.workspace_id)
            message = MessageRef(channel, row.message_id) if row.message_id else None
            result.append(
                Alert(
                    id=row.id,
                    subscription_id=row.subscription_id,
                    mention=StoredMention(row.mention_id, _mention(mentions[row.mention_id])),
                    channel=channel,
                    state=row.state,
                    matched=tuple(row.matched),
                    message=message,
                    assignee=row.assignee,
                    handled_by=row.handled_by,
                    repeats=row.repeats,
                    score=mentions[row.mention_id].score,
                    score_reasons=tuple(mentions[row.mention_id].reasons or ()),
                    is_question=row.is_question,
                )
            )
        return result


def _values(mention: Mention, now: datetime, scored: Scored | None) -> dict[str, object]:
    return dict(
        score=scored.score if scored else 0,
        sentiment=scored.sentiment if scored else "neutral",
        is_question=scored.is_question if scored else False,
        reasons=list(scored.reasons) if scored else [],
        network=mention.network,
        account=mention.account,
        external_id=mention.external_id,
        url=mention.url,
        author_handle=mention.author.handle,
        author_name=mention.author.name,
        author_followers=mention.author.followers,
        author_verified=mention.author.verified,
        text=mention.text,
        language=mention.language,
        kind=mention.kind,
        refers_to=mention.refers_to,
        in_reply_to=mention.in_reply_to,
        metrics=dict(mention.metrics),
        created_at=mention.created_at,
        received_at=now,
    )


def _mention(row: MentionRow) -> Mention:
    return Mention(
        network=row.network,
        external_id=row.external_id,
        url=row.url,
        author=MentionAuthor(
            handle=row.author_handle,
            name=row.author_name,
            followers=row.author_followers,
            verified=row.author_verified,
        ),
        text=row.text,
        created_at=row.created_at,
        language=row.language,
        in_reply_to=row.in_reply_to,
        kind=row.kind,
        refers_to=row.refers_to,
        metrics=dict(row.metrics),
        account=row.account,
    )


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        channel=ChannelRef(row.platform, row.channel_id, row.workspace_id),
        rule=row.rule,
        keywords=tuple(row.keywords),
        created_by=row.created_by,
        created_at=row.created_at,
    )
