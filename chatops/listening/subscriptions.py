"""Channel subscriptions: which mentions each chat channel wants to hear about, and how."""

from __future__ import annotations

from datetime import timedelta

from chatops.domain.errors import InvalidInput, NotFound
from chatops.domain.types import Actor, ChannelRef, Subscription
from chatops.listening.rules import RuleError, format_rule, parse_rule, terms
from chatops.runtime.clock import Clock
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore
from chatops.storage.reports import ReportStore

DIGEST_EXAMPLE = "`/alerts digest hourly` or `/alerts digest daily 08:00`"
RULE_EXAMPLE = '/alerts subscribe flood OR "boil water" -spam lang:en min_score:40'


DEFAULT_PER_CHANNEL = 20


class Subscriptions:
    def __init__(
        self, *, db: Database, clock: Clock, per_channel: int = DEFAULT_PER_CHANNEL
    ) -> None:
        self.db = db
        self.clock = clock
        self.per_channel = per_channel

    async def subscribe(self, actor: Actor, channel: ChannelRef, rule: str) -> Subscription:
        """Stores the rule in its canonical form, so what `/alerts list` shows is what runs.

        A channel holds at most `per_channel` subscriptions: each may cost a search against
        the network's quota at every poll, and anyone in the channel may add one. A rule the
        channel already has (the same canonical form, however it was typed) is not added
        again: a copy would only split its counts and cost another search."""
        parsed = parse_rule(rule)
        canonical = format_rule(parsed)
        now = self.clock.now()
        async with self.db.transaction() as session:
            subscriptions = await MentionStore(session).subscriptions(channel)
            same = next((s for s in subscriptions if _canonical(s.rule) == canonical), None)
            if same is not None:
                raise InvalidInput(
                    f"This channel already has that rule: subscription {same.id} ({same.rule}).",
                    hint="`/alerts list` shows this channel's subscriptions and their ids.",
                )
            held = len(subscriptions)
            if held >= self.per_channel:
                raise InvalidInput(
                    f"This channel already has {held} subscriptions, the most a channel can "
                    f"have ({self.per_channel}).",
                    hint="Remove one with `/alerts unsubscribe ID` first; `/alerts list` shows "
                    "their ids.",
                )
            subscription = await MentionStore(session).subscribe(
                channel,
                rule=canonical,
                keywords=[term.text for term in terms(parsed)],
                by=actor.user_id,
                now=now,
            )
            await ReportStore(session).settings_of(channel, now=now)  # digests count from here
            await AuditLog(session).record(
                at=now,
                actor=actor.user_id,
                platform=actor.platform,
                channel=channel.channel_id,
                workspace=channel.workspace_id,
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
                workspace=channel.workspace_id,
                action="unsubscribed",
                subscription_id=subscription_id,
                rule=removed.rule,
            )
        return removed

    async def of_workspace(self, platform: str, workspace_id: str) -> list[Subscription]:
        async with self.db.transaction() as session:
            return await MentionStore(session).subscriptions_of_workspace(platform, workspace_id)

    async def of_channel(self, channel: ChannelRef) -> list[tuple[Subscription, int]]:
        """This channel's subscriptions, each with the alerted mentions it matched in the last
        24 hours."""
        async with self.db.transaction() as session:
            subscriptions = await MentionStore(session).subscriptions(channel)
            counts = await ReportStore(session).match_counts_since(
                [s.id for s in subscriptions], self.clock.now() - timedelta(hours=24)
            )
        return [(s, counts.get(s.id, 0)) for s in subscriptions]

    async def set_digest(self, actor: Actor, channel: ChannelRef, mode: str, at: str) -> str:
        if mode not in ("hourly", "daily"):
            raise InvalidInput(f"{mode!r} is not a digest schedule.", hint=f"Try {DIGEST_EXAMPLE}.")
        if mode == "daily":
            parts = at.split(":")
            valid = len(parts) == 2 and all(p.isascii() and p.isdecimal() for p in parts)
            if not valid or int(parts[0]) > 23 or int(parts[1]) > 59:
                raise InvalidInput(f"{at!r} is not a time of day.", hint=f"Try {DIGEST_EXAMPLE}.")
            at = f"{int(parts[0]):02d}:{int(parts[1]):02d}"
        now = self.clock.now()
        async with self.db.transaction() as session:
            settings = await ReportStore(session).settings_of(channel, now=now)
            settings.digest, settings.digest_at = mode, at
            await AuditLog(session).record(
                at=now,
                actor=actor.user_id,
                platform=actor.platform,
                channel=channel.channel_id,
                workspace=channel.workspace_id,
                action="digest_set",
                schedule=mode,
                digest_at=at,
            )
        return "every hour" if mode == "hourly" else f"every day at {at}"


def _canonical(stored: str) -> str:
    """A stored rule's canonical form; one stored before the grammar changed may not parse,
    and then only the same text is the same rule."""
    try:
        return format_rule(parse_rule(stored))
    except RuleError:
        return stored
