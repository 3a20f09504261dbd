"""Replay a file of mentions through scoring and routing, to tune rules before subscribing.

Each rule is treated as its own channel, with the same repost collapsing, per-minute cap
and digest mode as live routing, and spikes assessed hour by hour on the file's own
timestamps, so the figures say what a channel would have received. Mentions arrive in
polls (every `poll_seconds` of the file's time), as live. The cap is the live one
(`chatops.listening.alert_cap`): a poll's alerts past the minute's room are held, never an urgent
one, and held alerts follow, highest score first, as soon as the minute has room (live, at
the next delivery beat, a second or so later). Every held alert counts among the alerts.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatops.domain.types import Mention
from chatops.listening.alert_cap import MINUTE, AlertCap
from chatops.listening.monitoring import NetworkKinds, facts_of, root_key, same_name
from chatops.listening.rules import Rule, evaluate, format_rule, parse_rule
from chatops.listening.scoring import Scorer, ScoreWeights, default_urgent_terms
from chatops.listening.spikes import SpikeSettings, SpikeState, assess, step


@dataclass
class SimulatedCap:
    """One channel's per-minute cap over simulated time."""

    cap: AlertCap
    let_through: int = 0
    held: int = 0
    longest_hold: timedelta = timedelta(0)
    # When each alert of about the last minute was let through, oldest first.
    _recent: deque[datetime] = field(default_factory=deque)
    # Held alerts as (-score, arrival order, held since): the next to follow first.
    _waiting: list[tuple[int, int, datetime]] = field(default_factory=list)
    _now: datetime | None = None
    _order: int = 0

    def poll(self, scores: Sequence[int], at: datetime) -> None:
        """A poll's new alerts at `at`: urgent ones go at once, the rest are held and the
        minute's room goes to the highest scores among them and those already held."""
        self.release(until=at)
        self._now = at
        new = []
        for score in scores:
            if self.cap.urgent(score):
                self._expire(at)
                self._recent.append(at)
                self.let_through += 1
                continue
            self._order += 1
            new.append(self._order)
            heapq.heappush(self._waiting, (-score, self._order, at))
        admitted = self.release(until=at)
        self.held += len(set(new) - set(admitted))

    def release(self, *, until: datetime | None) -> list[int]:
        """Let held alerts through, each as soon as the minute has room, up to `until`
        (None: all of them); the arrival order of those let through."""
        admitted = []
        per_minute = self.cap.per_minute
        while self._waiting:
            assert self._now is not None  # something was held, so a poll came
            full = len(self._recent) >= per_minute
            # Room comes when the alert let through `per_minute` places before the
            # newest is a minute old.
            free_at = self._recent[-per_minute] + MINUTE if full else self._now
            free_at = max(free_at, self._now)
            if until is not None and free_at > until:
                break
            self._now = free_at
            self._expire(free_at)
            _, order, since = heapq.heappop(self._waiting)
            self._recent.append(free_at)
            self.let_through += 1
            self.longest_hold = max(self.longest_hold, free_at - since)
            admitted.append(order)
        return admitted

    def _expire(self, now: datetime) -> None:
        while self._recent and now - self._recent[0] >= MINUTE:
            self._recent.popleft()


@dataclass
class RuleReport:
    rule: str
    cap: SimulatedCap
    matches: int = 0
    collapsed: int = 0
    digest_items: int = 0
    spikes: int = 0
    _roots: set[str] = field(default_factory=set, repr=False)
    _polled: list[int] = field(default_factory=list, repr=False)
    _times: deque[datetime] = field(default_factory=deque, repr=False)
    _spike: SpikeState = field(default_factory=SpikeState, repr=False)

    @property
    def alerts(self) -> int:
        return self.cap.let_through

    @property
    def held(self) -> int:
        return self.cap.held

    @property
    def longest_hold_minutes(self) -> int:
        """The longest any held alert waited, in whole minutes rounded up."""
        return math.ceil(self.cap.longest_hold / MINUTE)


def backtest(
    mentions: Iterable[Mention],
    rules: Sequence[str],
    *,
    agency_handles: Sequence[str] = (),
    weights: ScoreWeights | None = None,
    per_minute: int = 10,
    urgent_score: int = 70,
    poll_seconds: float = 30.0,
    spikes: SpikeSettings | None = None,
    progress: Callable[[int], None] = lambda done: None,
    network_kinds: NetworkKinds = same_name,
) -> list[RuleReport]:
    """Raises `RuleError` (with its position) for a rule that does not parse.

    `network_kinds` is the live registry's, so `network:mastodon` finds in the file what
    it would find live."""
    cap = AlertCap(per_minute=per_minute, urgent_score=urgent_score)
    parsed = [
        (parse_rule(text), RuleReport(format_rule(parse_rule(text)), SimulatedCap(cap)))
        for text in rules
    ]
    scorer = Scorer(
        weights or ScoreWeights(),
        agency_handles=agency_handles,
        watch={},
        urgent_terms=default_urgent_terms(),
        analyzer=SentimentIntensityAnalyzer(),
    )
    spike_settings = spikes or SpikeSettings()
    poll = timedelta(seconds=poll_seconds)
    ordered = sorted(mentions, key=lambda mention: mention.created_at)
    next_hour = ordered[0].created_at + timedelta(hours=1) if ordered else None
    next_poll = ordered[0].created_at + poll if ordered else None
    for done, mention in enumerate(ordered, start=1):
        while next_hour is not None and mention.created_at >= next_hour:
            _assess_spikes(parsed, next_hour, spike_settings)
            next_hour += timedelta(hours=1)
        if next_poll is not None and mention.created_at >= next_poll:
            _poll(parsed, next_poll)
            next_poll += poll * (1 + (mention.created_at - next_poll) // poll)
        scored = scorer.score(mention)
        facts = facts_of(mention, scored, network_kinds)
        for rule, report in parsed:
            if evaluate(rule, facts) is not None:
                _route(rule, report, mention, scored.score)
        progress(done)
    if next_poll is not None:
        _poll(parsed, next_poll)
    if next_hour is not None:
        _assess_spikes(parsed, next_hour, spike_settings)
    for _, report in parsed:
        report.cap.release(until=None)  # what is still held follows after the file
    return [report for _, report in parsed]


def _route(rule: Rule, report: RuleReport, mention: Mention, score: int) -> None:
    report.matches += 1
    report._times.append(mention.created_at)
    root = root_key(mention)
    if root in report._roots:
        report.collapsed += 1
        return
    report._roots.add(root)
    if rule.mode == "digest":
        report.digest_items += 1
        return
    report._polled.append(score)


def _poll(parsed: Sequence[tuple[Rule, RuleReport]], at: datetime) -> None:
    for _, report in parsed:
        report.cap.poll(report._polled, at)
        report._polled = []


def _assess_spikes(
    parsed: Sequence[tuple[Rule, RuleReport]], now: datetime, settings: SpikeSettings
) -> None:
    horizon = now - timedelta(hours=settings.baseline_hours + 1)
    for _, report in parsed:
        while report._times and report._times[0] <= horizon:
            report._times.popleft()
        verdict = assess(list(report._times), now, settings)
        report._spike, alert = step(report._spike, verdict, now, settings)
        report.spikes += int(alert)
