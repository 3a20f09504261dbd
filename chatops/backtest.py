"""Replay a file of mentions through scoring and routing, to tune rules before subscribing.

Each rule is treated as its own channel, with the same repost collapsing, per-minute cap
and digest mode as live routing, and spikes assessed hour by hour on the file's own
timestamps, so the figures say what a channel would have received.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatops.domain.types import Mention
from chatops.monitoring import facts_of, root_key
from chatops.rules import Rule, evaluate, format_rule, parse_rule
from chatops.scoring import Scorer, ScoreWeights, default_urgent_terms
from chatops.spikes import SpikeSettings, SpikeState, assess, step


@dataclass
class RuleReport:
    rule: str
    matches: int = 0
    alerts: int = 0
    collapsed: int = 0
    digest_items: int = 0
    spikes: int = 0
    _roots: set[str] = field(default_factory=set, repr=False)
    _recent: deque[datetime] = field(default_factory=deque, repr=False)
    _times: deque[datetime] = field(default_factory=deque, repr=False)
    _spike: SpikeState = field(default_factory=SpikeState, repr=False)


def backtest(
    mentions: Iterable[Mention],
    rules: Sequence[str],
    *,
    agency_handles: Sequence[str] = (),
    weights: ScoreWeights | None = None,
    per_minute: int = 10,
    spikes: SpikeSettings | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> list[RuleReport]:
    """Raises `RuleError` (with its position) for a rule that does not parse."""
    parsed = [(parse_rule(text), RuleReport(format_rule(parse_rule(text)))) for text in rules]
    scorer = Scorer(
        weights or ScoreWeights(),
        agency_handles=agency_handles,
        watch={},
        urgent_terms=default_urgent_terms(),
        analyzer=SentimentIntensityAnalyzer(),
    )
    spike_settings = spikes or SpikeSettings()
    ordered = sorted(mentions, key=lambda mention: mention.created_at)
    next_hour = ordered[0].created_at + timedelta(hours=1) if ordered else None
    for done, mention in enumerate(ordered, start=1):
        while next_hour is not None and mention.created_at >= next_hour:
            _assess_spikes(parsed, next_hour, spike_settings)
            next_hour += timedelta(hours=1)
        facts = facts_of(mention, scorer.score(mention))
        for rule, report in parsed:
            if evaluate(rule, facts) is not None:
                _route(rule, report, mention, per_minute)
        progress(done)
    if next_hour is not None:
        _assess_spikes(parsed, next_hour, spike_settings)
    return [report for _, report in parsed]


def _route(rule: Rule, report: RuleReport, mention: Mention, per_minute: int) -> None:
    report.matches += 1
    report._times.append(mention.created_at)
    root = root_key(mention)
    if root in report._roots:
        report.collapsed += 1
        return
    report._roots.add(root)
    recent = report._recent
    while recent and mention.created_at - recent[0] >= timedelta(minutes=1):
        recent.popleft()
    if rule.mode == "digest" or len(recent) >= per_minute:
        report.digest_items += 1
        return
    recent.append(mention.created_at)
    report.alerts += 1


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
