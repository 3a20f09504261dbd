"""Channel subscriptions: which mentions each chat channel wants to hear about."""

from __future__ import annotations

from chatops.clock import Clock
from chatops.domain.errors import NotFound
from chatops.domain.types import Actor, ChannelRef, Subscription
from chatops.monitoring import parse_keywords
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore


class Subscriptions:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def subscribe(self, actor: Actor, channel: ChannelRef, rule: str) -> Subscription:
        keywords = parse_keywords(rule)
        now = self.clock.now()
        async with self.db.transaction() as session:
            subscription = await MentionStore(session).subscribe(
                channel, rule=rule.strip(), keywords=keywords, by=actor.user_id, now=now
            )
            await AuditLog(session).record(
                at=now,
                actor=actor.user_id,
                platform=actor.platform,
                channel=channel.channel_id,
                action="subscribed",
                subscription_id=subscription.id,
                rule=subscription.rule,
            )
        return subscription

    async def unsubscribe(
        self, actor: Actor, channel: ChannelRef, subscription_id: int
    ) -> Subscription:
        now = self.clock.now()
        async with self.db.transaction() as session:
            removed = await MentionStore(session).unsubscribe(channel, subscription_id)
            if removed is None:
                raise NotFound(
                    f"This channel has no subscription {subscription_id}.",
                    hint="`/alerts list` shows this channel's subscriptions and their ids.",
                )
            await AuditLog(session).record(
                at=now,
                actor=actor.user_id,
                platform=actor.platform,
                channel=channel.channel_id,
                action="unsubscribed",
                subscription_id=subscription_id,
                rule=removed.rule,
            )
        return removed

    async def of_workspace(self, platform: str, workspace_id: str) -> list[Subscription]:
        async with self.db.transaction() as session:
            return await MentionStore(session).subscriptions_of_workspace(platform, workspace_id)

    async def of_channel(self, channel: ChannelRef) -> list[Subscription]:
        async with self.db.transaction() as session:
            return await MentionStore(session).subscriptions(channel)
