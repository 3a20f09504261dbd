"""The mention pipeline: score, store once, route once per channel, collapse reposts, cap.

Storing, routing and moving the poll cursor happen in one transaction, so a crash
either keeps all three or none, and the next poll repeats nothing and misses nothing.
Routing rules: every stored mention but the agency's own posts is evaluated against every
subscription once; a channel gets a mention at most once however many of its rules match;
a repost or quote of something the channel was already alerted about adds to that alert's
count instead of a new alert; past a channel's per-minute cap, alerts are held and follow
highest score first as the cap allows (`chatops.listening.alert_cap`), never dropped and never
flooding it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatops.domain.types import ChannelRef, Mention, StoredMention, Subscription
from chatops.listening.alert_cap import AlertCap
from chatops.listening.business_hours import BusinessHours, add_business_time
from chatops.listening.rules import Facts, Rule, RuleError, evaluate, parse_rule
from chatops.listening.scoring import Scored, Scorer, ScoreWeights, default_urgent_terms
from chatops.runtime.clock import Clock
from chatops.storage.database import Database
from chatops.storage.held import HELD, lock_order
from chatops.storage.lists import ListStore
from chatops.storage.mentions import MentionStore
from chatops.storage.tables import AlertRow

log = structlog.get_logger(__name__)

COLLAPSING_KINDS = ("repost", "quote")


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    alerts: int
    collapsed: int = 0
    to_digest: int = 0
    held: int = 0


@dataclass(frozen=True)
class RoutingPolicy:
    cap: AlertCap = field(default_factory=AlertCap)
    response_target: timedelta = timedelta(hours=2)
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


class ScorerSource:
    """A scorer with the current watch lists and lexicon, rebuilt when they may have changed."""

    def __init__(
        self,
        weights: ScoreWeights,
        *,
        agency_handles: Callable[[], Collection[str]],
        clock: Clock,
        refresh: timedelta = timedelta(seconds=30),
    ) -> None:
        self.weights = weights
        self.agency_handles = agency_handles
        self.clock = clock
        self.refresh = refresh
        self.analyzer = SentimentIntensityAnalyzer()
        self.defaults = default_urgent_terms()
        self._cached: tuple[datetime, Scorer] | None = None

    def invalidate(self) -> None:
        self._cached = None

    async def scorer(self, session: AsyncSession) -> Scorer:
        now = self.clock.now()
        if self._cached is not None and now - self._cached[0] < self.refresh:
            return self._cached[1]
        lists = ListStore(session)
        scorer = Scorer(
            self.weights,
            agency_handles=self.agency_handles(),
            watch=await lists.watch(),
            urgent_terms=[*self.defaults, *await lists.urgent_terms()],
            analyzer=self.analyzer,
        )
        self._cached = (now, scorer)
        return scorer


NetworkKinds = Callable[[str], str]
"""A network's kind by its configured name (`sandbox-mastodon` -> `mastodon`), for the
rules' `network:` field; the composition root passes the registry's."""


def same_name(network: str) -> str:
    """The kind of a network nobody said more about: its own name."""
    return network


class MentionPipeline:
    """`on_alerts` is told when new alerts are queued, so delivery need not wait a beat;
    `network_kinds` tells rules which kind each network is, for `network:`."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        scorers: ScorerSource,
        policy: RoutingPolicy | None = None,
        on_alerts: Callable[[], None] = lambda: None,
        network_kinds: NetworkKinds = same_name,
    ) -> None:
        self.db = db
        self.clock = clock
        self.scorers = scorers
        self.policy = policy or RoutingPolicy()
        self.on_alerts = on_alerts
        self.network_kinds = network_kinds
        self._rules: dict[tuple[int, str], Rule | None] = {}

    async def ingest(
        self, mentions: Sequence[Mention], *, cursor: tuple[str, str] | None = None
    ) -> IngestResult:
        now = self.clock.now()
        async with self.db.transaction() as session:
            store = MentionStore(session)
            scorer = await self.scorers.scorer(session)
            scores = [scorer.score(mention) for mention in mentions]
            stored = await store.insert_new(mentions, now=now, scores=scores)
            result = IngestResult(len(mentions), len(stored), 0)
            # The agency's own posts are stored (replies and reposts refer to them) but never
            # routed: an alert would ask the team to answer itself.
            routed = [m for m in stored if not scorer.from_agency(m.mention)]
            if routed:
                by_id = {
                    (m.network, m.external_id): s for m, s in zip(mentions, scores, strict=True)
                }
                result = await self._route(store, routed, by_id, now, len(mentions))
                result = replace(result, stored=len(stored))
            if cursor is not None:
                await store.save_cursor(cursor[0], cursor[1], now=now)
        if result.alerts:
            self.on_alerts()
        return result

    def rule_of(self, subscription: Subscription) -> Rule | None:
        key = (subscription.id, subscription.rule)
        if key not in self._rules:
            try:
                self._rules[key] = parse_rule(subscription.rule)
            except RuleError as error:
                log.warning(
                    "stored_rule_unreadable", subscription=subscription.id, error=str(error)
                )
                self._rules[key] = None
        return self._rules[key]

    async def _route(
        self,
        store: MentionStore,
        stored: Sequence[StoredMention],
        scores: dict[tuple[str, str], Scored],
        now: datetime,
        received: int,
    ) -> IngestResult:
        rules = [(s, r) for s in await store.subscriptions() if (r := self.rule_of(s)) is not None]
        matches: list[_Match] = []
        for mention in stored:
            scored = scores[(mention.mention.network, mention.mention.external_id)]
            matches += _matches(mention, scored, rules, self.network_kinds)
        if not matches:
            return IngestResult(received, len(stored), 0)
        roots = {root_key(m.mention) for m, _, _, _, _ in matches}
        existing: dict[tuple[str, tuple[str, str, str]], AlertRow | dict[str, object]] = dict(
            await store.alerts_by_root(roots)
        )
        cap = self.policy.cap
        new_rows: list[dict[str, object]] = []
        matched_by: list[dict[str, object]] = []
        holding: dict[ChannelRef, set[int]] = {}
        collapsed = to_digest = 0
        for mention, subscription, rule, reasons, matching in matches:
            channel = subscription.channel
            key = (root_key(mention.mention), _channel_key(channel))
            if key in existing:
                _count_repeat(existing[key])
                collapsed += 1
                continue
            scored = scores[(mention.mention.network, mention.mention.external_id)]
            # Every instant alert but an urgent one starts held; the cap then lets through
            # as many as the minute has room for, the highest scores first.
            if rule.mode == "digest":
                delivery = "digest"
                to_digest += 1
            elif cap.urgent(scored.score):
                delivery = "pending"
            else:
                delivery = HELD
                holding.setdefault(channel, set()).add(mention.id)
            row = self._alert(mention, subscription, reasons, scored, now, delivery=delivery)
            existing[key] = row
            new_rows.append(row)
            matched_by += (
                dict(subscription_id=s.id, mention_id=mention.id, created_at=now) for s in matching
            )
        added = await store.add_alerts(new_rows)
        await store.add_matches(matched_by)
        held = 0
        for channel in sorted(holding, key=lock_order):
            mention_ids = holding[channel]
            released = await cap.admit(store.session, channel, now)
            held += len(mention_ids - set(released))
        return IngestResult(received, len(stored), added, collapsed, to_digest, held)

    def _alert(
        self,
        mention: StoredMention,
        subscription: Subscription,
        reasons: tuple[str, ...],
        scored: Scored,
        now: datetime,
        *,
        delivery: str,
    ) -> dict[str, object]:
        channel = subscription.channel
        due = None
        if scored.is_question:
            policy = self.policy
            due = add_business_time(now, policy.response_target, policy.zone, policy.business_hours)
        return dict(
            subscription_id=subscription.id,
            mention_id=mention.id,
            platform=channel.platform,
            workspace_id=channel.workspace_id,
            channel_id=channel.channel_id,
            matched=list(reasons),
            state="open",
            delivery=delivery,
            in_digest=delivery == "digest",
            queued_at=now if delivery == "pending" else None,
            root_key=root_key(mention.mention),
            repeats=0,
            is_question=scored.is_question,
            due_at=due,
            created_at=now,
            assignee=None,
            handled_by=None,
            handled_at=None,
            digested_at=None,
            resurfaced_at=None,
            responded_at=None,
            message_id=None,
            delivered_at=None,
            delivery_claimed_at=None,
        )


def _count_repeat(alert: AlertRow | dict[str, object]) -> None:
    """One more repost of what the alert is about, whether stored already or new."""
    if isinstance(alert, AlertRow):
        alert.repeats += 1
    else:
        alert["repeats"] = int(str(alert["repeats"])) + 1


def facts_of(mention: Mention, scored: Scored, kinds: NetworkKinds = same_name) -> Facts:
    return Facts(
        text=mention.text,
        author=mention.author.handle.lower(),
        language=mention.language.lower(),
        sentiment=scored.sentiment,
        is_question=scored.is_question,
        score=scored.score,
        network=mention.network.lower(),
        network_kind=kinds(mention.network).lower(),
        account=mention.account.lower().removeprefix("@"),
    )


# A mention, the first subscription of a channel that matched it (its alert's, whose rule
# says instant or digest and why), its reasons, and every subscription of the channel that
# matched it (the first included), each of which counts the match.
_Match = tuple[StoredMention, Subscription, Rule, tuple[str, ...], list[Subscription]]


def _matches(
    mention: StoredMention,
    scored: Scored,
    rules: Sequence[tuple[Subscription, Rule]],
    kinds: NetworkKinds,
) -> list[_Match]:
    """One match per channel, so a channel hears a mention once, naming all its rules that
    matched: each rule's own count must include mentions an earlier rule also matched."""
    facts = facts_of(mention.mention, scored, kinds)
    found: dict[tuple[str, str, str], _Match] = {}
    for subscription, rule in rules:
        reasons = evaluate(rule, facts)
        if reasons is None:
            continue
        channel = _channel_key(subscription.channel)
        if channel in found:
            found[channel][4].append(subscription)
        else:
            found[channel] = (mention, subscription, rule, reasons, [subscription])
    return list(found.values())


def root_key(mention: Mention) -> str:
    """What reposts collapse onto: the post they repeat, else the mention itself."""
    if mention.kind in COLLAPSING_KINDS and mention.refers_to:
        return f"{mention.network}:{mention.refers_to}"
    return f"{mention.network}:{mention.external_id}"


def _channel_key(channel: ChannelRef) -> tuple[str, str, str]:
    return (channel.platform, channel.workspace_id, channel.channel_id)
