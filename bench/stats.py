"""The one percentile every benchmark reports, so their p50/p95/p99 mean the same thing."""

from __future__ import annotations


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation): a latency that was actually observed."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
