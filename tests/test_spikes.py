"""Spike detection: the Poisson tail, hourly bucketing, the verdict and the alert state."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatops.listening.spikes import (
    SpikeSettings,
    SpikeState,
    Verdict,
    assess,
    assess_counts,
    hourly_counts,
    poisson_tail,
    step,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def stamps(counts: Sequence[int], now: datetime = NOW) -> list[datetime]:
    """Mention times reproducing `counts` (oldest hour first, last entry = the last hour)."""
    times = []
    for back, count in enumerate(reversed(counts)):
        bucket_end = now - back * HOUR
        times += [bucket_end - timedelta(seconds=1 + i) for i in range(count)]
    return times


# poisson_tail


@pytest.mark.parametrize(
    ("k", "lam", "expected"),
    [
        (3, 1.0, 0.0803013970713942),
        (10, 10.0, 0.5420702855281478),
        (1, 1.0, 1 - math.exp(-1)),
        (5, 0.5, 1.7211562995584067e-04),
        (40, 3.0, 8.003095092522042e-31),
        (112, 100.0, 0.12603595252709773),
    ],
)
def test_poisson_tail_matches_known_values(k: int, lam: float, expected: float) -> None:
    assert poisson_tail(k, lam) == pytest.approx(expected, rel=1e-12)


def test_poisson_tail_edges() -> None:
    assert poisson_tail(0, 5.0) == 1.0
    assert poisson_tail(-3, 5.0) == 1.0
    assert poisson_tail(1, 0.0) == 0.0
    assert poisson_tail(0, 0.0) == 1.0
    with pytest.raises(ValueError, match="lam"):
        poisson_tail(3, -1.0)
    with pytest.raises(ValueError, match="lam"):
        poisson_tail(3, math.nan)


def test_poisson_tail_is_finite_and_sane_for_large_values() -> None:
    lam = 1e5
    assert poisson_tail(100_000, lam) == pytest.approx(0.5004205219836, rel=1e-9)
    assert poisson_tail(101_000, lam) == pytest.approx(7.998010417249e-4, rel=1e-8)
    assert poisson_tail(99_000, lam) == pytest.approx(0.9992342004424, rel=1e-12)
    assert poisson_tail(1_000_000, lam) == 0.0
    assert poisson_tail(1_000, lam) == 1.0


def test_poisson_tail_is_monotone_for_large_values() -> None:
    ks = [1, 10_000, 99_000, 99_999, 100_000, 100_001, 100_500, 101_000, 102_000, 10**6]
    tails = [poisson_tail(k, 1e5) for k in ks]
    assert all(math.isfinite(t) and 0.0 <= t <= 1.0 for t in tails)
    assert tails == sorted(tails, reverse=True)
    lams = [1e3, 5e4, 99_000.0, 100_000.0, 100_500.0, 1e5 + 1e3]
    rising = [poisson_tail(100_000, lam) for lam in lams]
    assert rising == sorted(rising)


@given(k=st.integers(0, 2_000), lam=st.floats(0.0, 2_000.0))
def test_poisson_tail_decreases_in_k(k: int, lam: float) -> None:
    here, next_one = poisson_tail(k, lam), poisson_tail(k + 1, lam)
    assert 0.0 <= next_one <= here <= 1.0


# hourly_counts


def test_hourly_counts_bucket_boundaries() -> None:
    times = [
        NOW,  # the last hour is (now - 1h, now]: `now` itself is in it
        NOW - HOUR,  # exactly one hour back closes the previous bucket
        NOW - HOUR + timedelta(microseconds=1),  # just inside the last hour
        NOW - 2 * HOUR,
        NOW - 3 * HOUR,  # (now - 3h) is outside a 3-hour window
        NOW + timedelta(seconds=1),  # future: ignored
        NOW - 10 * HOUR,  # long ago: ignored
    ]
    assert hourly_counts(times, NOW, 3) == [1, 1, 2]


def test_hourly_counts_compare_instants_not_wall_clocks() -> None:
    chicago = ZoneInfo("America/Chicago")
    # 2026-11-01 is the US fall-back day: 01:30 happens twice in Chicago.
    now = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=chicago)  # 07:30 UTC
    first_0130 = datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=chicago)  # 06:30 UTC
    first_0145 = datetime(2026, 11, 1, 1, 45, fold=0, tzinfo=chicago)  # 06:45 UTC
    # By wall clock 01:45 would be in the future and 01:30 would be `now` itself.
    assert hourly_counts([first_0130, first_0145], now, 2) == [1, 1]


def test_hourly_counts_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hourly_counts([datetime(2026, 1, 1, 12)], NOW, 3)
    with pytest.raises(ValueError, match="timezone-aware"):
        hourly_counts([], datetime(2026, 1, 1, 12), 3)


# assess


def test_a_burst_after_a_quiet_baseline_is_a_spike() -> None:
    baseline = [3, 2, 4, 3, 3, 2, 4, 3, 3, 4, 2, 3]
    verdict = assess(stamps([*baseline, 40]), NOW)
    assert verdict.volume == 40
    assert verdict.baseline == pytest.approx(3.0)
    assert verdict.p_value < 1e-20
    assert verdict.spiking


def test_a_busy_channel_at_its_usual_noise_is_not_a_spike() -> None:
    baseline = [93, 108, 97, 104, 88, 111, 99, 102, 95, 106, 100, 97]
    verdict = assess(stamps([*baseline, 112]), NOW)
    assert verdict.baseline == pytest.approx(100.0)
    assert verdict.p_value == pytest.approx(0.126, abs=1e-3)
    assert not verdict.spiking


def test_a_few_replies_on_a_silent_channel_are_not_a_spike() -> None:
    verdict = assess(stamps([0] * 12 + [6]), NOW)
    assert verdict.baseline == 0.5  # the floor, not 0
    assert verdict.p_value < SpikeSettings().alpha  # statistically striking ...
    assert not verdict.spiking  # ... but below min_volume


def test_assess_agrees_with_assess_counts_and_ignores_older_hours() -> None:
    counts = [500] * 5 + [3] * 12 + [40]  # the 500s are older than the baseline window
    assert assess(stamps(counts), NOW) == assess_counts(counts)
    assert assess_counts(counts).baseline == pytest.approx(3.0)


def test_settings_are_tunable_and_validated() -> None:
    assert assess_counts([0] * 12 + [6], SpikeSettings(min_volume=5)).spiking
    assert not assess_counts([3] * 4 + [40], SpikeSettings(baseline_hours=4, alpha=1e-40)).spiking
    with pytest.raises(ValueError, match="alpha"):
        SpikeSettings(alpha=0.0)
    with pytest.raises(ValueError, match="baseline_hours"):
        SpikeSettings(baseline_hours=0)
    with pytest.raises(ValueError, match="min_baseline"):
        SpikeSettings(min_baseline=0.0)
    with pytest.raises(ValueError, match="13 hourly counts"):
        assess_counts([1] * 12)


@given(
    baseline=st.lists(st.integers(0, 5_000), min_size=12, max_size=12),
    volume=st.integers(0, 20_000),
    extra=st.integers(0, 5_000),
    alpha=st.sampled_from([1e-6, 1e-3, 0.05]),
    min_volume=st.integers(0, 50),
)
def test_more_mentions_never_turn_a_spike_off(
    baseline: list[int], volume: int, extra: int, alpha: float, min_volume: int
) -> None:
    settings = SpikeSettings(alpha=alpha, min_volume=min_volume)
    lower = assess_counts([*baseline, volume], settings)
    higher = assess_counts([*baseline, volume + extra], settings)
    assert 0.0 <= lower.p_value <= 1.0
    assert 0.0 <= higher.p_value <= 1.0
    assert higher.p_value <= lower.p_value
    assert higher.spiking >= lower.spiking


# step


def verdict(volume: int, baseline: float, spiking: bool) -> Verdict:
    return Verdict(
        volume=volume, baseline=baseline, p_value=0.0 if spiking else 0.5, spiking=spiking
    )


def test_step_alerts_once_per_spike_and_ends_with_hysteresis() -> None:
    state = SpikeState()
    state, alert = step(state, verdict(8, 3.0, spiking=False), NOW)
    assert (state, alert) == (SpikeState(), False)

    state, alert = step(state, verdict(40, 3.0, spiking=True), NOW + HOUR)
    assert alert
    assert state == SpikeState(active=True, started_at=NOW + HOUR)

    state, alert = step(state, verdict(60, 6.0, spiking=True), NOW + 2 * HOUR)
    assert not alert and state.active  # still spiking: no repeat

    state, alert = step(state, verdict(12, 7.0, spiking=False), NOW + 3 * HOUR)
    assert not alert and state.active  # calmer but still >= 1.5 x baseline: not over yet

    state, alert = step(state, verdict(10, 7.0, spiking=False), NOW + 4 * HOUR)
    assert (state, alert) == (SpikeState(), False)  # 10 < 10.5: over

    state, alert = step(state, verdict(50, 6.0, spiking=True), NOW + 5 * HOUR)
    assert alert and state == SpikeState(active=True, started_at=NOW + 5 * HOUR)


def test_a_significant_rise_on_a_busy_channel_does_not_flap() -> None:
    active = SpikeState(active=True, started_at=NOW)
    # 1200 against 1000/h is below 1.5 x baseline but still highly significant.
    state, alert = step(active, verdict(1200, 1000.0, spiking=True), NOW + HOUR)
    assert (state, alert) == (active, False)


def test_end_ratio_is_tunable() -> None:
    active = SpikeState(active=True, started_at=NOW)
    calmer = verdict(12, 7.0, spiking=False)
    assert step(active, calmer, NOW + HOUR)[0].active
    assert not step(active, calmer, NOW + HOUR, SpikeSettings(end_ratio=2.0))[0].active


def test_a_day_of_traffic_alerts_exactly_once() -> None:
    hourly = [3, 2, 4, 3, 3, 2, 4, 3, 3, 4, 2, 3, 40, 55, 30, 12, 6, 4, 3, 3]
    times = stamps(hourly, NOW)
    state, alerts = SpikeState(), []
    for hour in range(12, len(hourly)):
        now = NOW - (len(hourly) - 1 - hour) * HOUR
        state, alert = step(state, assess(times, now), now)
        alerts.append(alert)
    assert alerts == [True] + [False] * 7
    assert not state.active
