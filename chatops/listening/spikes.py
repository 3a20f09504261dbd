"""Early warning of mention spikes: is the last hour unusually busy for this channel?

Method
------
Mentions are bucketed into hourly counts ending at `now`. The last hour (the 60 minutes up
to `now`) is compared with the *baseline*: the mean of the previous `baseline_hours`
(default 12) hourly counts. If mentions arrived at random at the baseline rate, the count
in one hour would follow a Poisson distribution with that mean, so the p-value
P(X >= last hour) says how surprising the last hour is. Below `alpha` (default 0.001) the
hour is a spike: were traffic truly Poisson, that is at most one false alarm per thousand
ordinary hours (six weeks) per channel; real traffic is burstier, so expect somewhat more.
The test adapts to scale by itself: 40 mentions after 3 an hour is alarming, 112 after 100
an hour is ordinary noise.

Guards, each tunable in `SpikeSettings`:

* `min_baseline` (0.5/h): a channel that was silent for 12 hours has a baseline of 0, and
  against a rate of 0 any single mention would be "infinitely" surprising. The floor keeps
  the test meaningful there (at 0.5/h, 3 mentions in an hour have p = 0.014); raise it to
  make quiet channels less sensitive.
* `min_volume` (10/h): whatever the statistics say, fewer mentions than this in an hour are
  never a spike. On a quiet channel 6 replies to one post are statistically striking but
  not news; a team paged for them soon learns to ignore the alerts.
* `end_ratio` (1.5): hysteresis. Once a spike has been announced it stays active, without
  repeat alerts, until the last hour falls below `end_ratio` times the baseline (and is no
  longer a spike by the test above). Ending on a lower bar than starting stops a volume
  hovering near the threshold from alerting every other hour.

Raise `alpha` or lower `min_volume` for earlier, noisier warnings; lower `alpha` or raise
`min_volume` for fewer, surer ones. `baseline_hours` trades reactivity to a slow drift in
volume (short) against stability of the baseline (long). A long spike feeds its own hours
into the baseline, so it ends by itself once the new level has become the norm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
_EPS = 1e-17  # relative size of the last term kept when summing Poisson probabilities


@dataclass(frozen=True)
class SpikeSettings:
    """Tuning knobs; the module docstring explains what each one trades off."""

    baseline_hours: int = 12
    alpha: float = 0.001
    min_volume: int = 10
    min_baseline: float = 0.5
    end_ratio: float = 1.5

    def __post_init__(self) -> None:
        """Refuse settings that would silently disable or break detection."""
        if self.baseline_hours < 1:
            raise ValueError(f"baseline_hours must be at least 1, not {self.baseline_hours}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be between 0 and 1 (exclusive), not {self.alpha}")
        if self.min_volume < 0:
            raise ValueError(f"min_volume must not be negative, not {self.min_volume}")
        if not (math.isfinite(self.min_baseline) and self.min_baseline > 0.0):
            raise ValueError(f"min_baseline must be a positive number, not {self.min_baseline}")
        if not (math.isfinite(self.end_ratio) and self.end_ratio > 0.0):
            raise ValueError(f"end_ratio must be a positive number, not {self.end_ratio}")


@dataclass(frozen=True)
class Verdict:
    """One assessment of the last hour, with the numbers behind it for the alert text."""

    volume: int
    baseline: float
    p_value: float
    spiking: bool


@dataclass(frozen=True)
class SpikeState:
    """What a channel remembers between hourly assessments, so a spike alerts once."""

    active: bool = False
    started_at: datetime | None = None


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), without scipy and without overflow.

    The sum is taken on the side of the mode that holds few significant terms: above it
    directly (full relative precision for the small p-values that matter here), below it
    as a complement. Terms are built by ratios from a single log-space pmf, so k up to
    1e6 and lam up to 1e5 stay finite and cost a few thousand steps at most.
    """
    if not (math.isfinite(lam) and lam >= 0.0):
        raise ValueError(f"lam must be a finite non-negative rate, not {lam}")
    if k <= 0:
        return 1.0
    if lam == 0.0:
        return 0.0
    if k > lam:
        return min(1.0, _sum_upwards(k, lam))
    return min(1.0, max(0.0, 1.0 - _sum_downwards(k - 1, lam)))


def _log_pmf(k: int, lam: float) -> float:
    """log P(X = k), in log space because lam**k / k! overflows long before k = 1e6."""
    return k * math.log(lam) - lam - math.lgamma(k + 1)


def _sum_upwards(k: int, lam: float) -> float:
    """P(X >= k) for k > lam: pmf(k) * (1 + r1 + r1*r2 + ...), each ratio lam/j below 1."""
    total, term, j = 1.0, 1.0, k
    while term > total * _EPS:
        j += 1
        term *= lam / j
        total += term
    return math.exp(_log_pmf(k, lam) + math.log(total))


def _sum_downwards(m: int, lam: float) -> float:
    """P(X <= m) for m < lam: pmf(m) * (1 + m/lam + m(m-1)/lam**2 + ...)."""
    total, term, j = 1.0, 1.0, m
    while j > 0 and term > total * _EPS:
        term *= j / lam
        total += term
        j -= 1
    return math.exp(_log_pmf(m, lam) + math.log(total))


def hourly_counts(times: Sequence[datetime], now: datetime, hours: int) -> list[int]:
    """Mentions per hour for the `hours` hours ending at `now`, oldest first.

    Index -1 counts (now - 1h, now], index -2 counts (now - 2h, now - 1h], and so on.
    Moments are compared in UTC: subtracting two datetimes that share a ZoneInfo would
    use wall-clock time and misplace mentions around a DST change.
    """
    if hours < 1:
        raise ValueError(f"hours must be at least 1, not {hours}")
    end = _utc(now, "now")
    counts = [0] * hours
    for moment in times:
        back = _hours_back(end - _utc(moment, "mention time"))
        if back is not None and back < hours:
            counts[-1 - back] += 1
    return counts


def _hours_back(age: timedelta) -> int | None:
    """Which bucket a mention `age` before now falls in (0 = last hour); None if in the future.

    Ages in [0, 1h) are the last hour, [1h, 2h) the one before: a mention exactly one hour
    old closes the previous bucket, matching the (now - 1h, now] convention.
    """
    if age < timedelta(0):
        return None
    return age // HOUR


def _utc(moment: datetime, what: str) -> datetime:
    """Reject naive datetimes: their hour is ambiguous between the server's and the agency's."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def assess(
    times: Sequence[datetime], now: datetime, settings: SpikeSettings = SpikeSettings()
) -> Verdict:
    """Judge the hour ending at `now` against the `baseline_hours` before it."""
    counts = hourly_counts(times, now, settings.baseline_hours + 1)
    return assess_counts(counts, settings)


def assess_counts(counts: Sequence[int], settings: SpikeSettings = SpikeSettings()) -> Verdict:
    """Judge counts[-1] against the `baseline_hours` counts before it.

    Split from `assess` so callers that already keep hourly totals (and property tests)
    need not rebuild timestamps.
    """
    needed = settings.baseline_hours + 1
    if len(counts) < needed:
        raise ValueError(f"need {needed} hourly counts, got {len(counts)}")
    volume = counts[-1]
    history = counts[-needed:-1]
    baseline = max(sum(history) / len(history), settings.min_baseline)
    p_value = poisson_tail(volume, baseline)
    spiking = volume >= settings.min_volume and p_value < settings.alpha
    return Verdict(volume=volume, baseline=baseline, p_value=p_value, spiking=spiking)


def step(
    state: SpikeState,
    verdict: Verdict,
    now: datetime,
    settings: SpikeSettings = SpikeSettings(),
) -> tuple[SpikeState, bool]:
    """Advance the channel's spike state by one verdict; True means post an alert now.

    Only the start of a spike alerts. An active spike ends once the volume drops below
    `end_ratio` times the baseline and the hour is no longer spiking; the second condition
    matters on very busy channels, where a rise smaller than `end_ratio` can still be
    significant and ending there would alert again the next hour.
    """
    if not state.active:
        if verdict.spiking:
            _utc(now, "now")
            return SpikeState(active=True, started_at=now), True
        return state, False
    if _has_subsided(verdict, settings):
        return SpikeState(), False
    return state, False


def _has_subsided(verdict: Verdict, settings: SpikeSettings) -> bool:
    """The hysteresis test: a lower bar to end a spike than to start one."""
    return verdict.volume < settings.end_ratio * verdict.baseline and not verdict.spiking
