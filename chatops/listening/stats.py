"""First-response times: how long residents' questions wait for the agency's first reply."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatops.storage.database import Database
from chatops.storage.reports import ReportStore


@dataclass(frozen=True)
class ResponseStats:
    days: int
    answered: int
    median: timedelta | None
    p90: timedelta | None


async def response_stats(
    db: Database, now: datetime, days: tuple[int, ...] = (7, 30)
) -> list[ResponseStats]:
    results = []
    async with db.transaction() as session:
        reports = ReportStore(session)
        for window in days:
            seconds = await reports.response_times(now - timedelta(days=window))
            results.append(
                ResponseStats(
                    days=window,
                    answered=len(seconds),
                    median=timedelta(seconds=statistics.median(seconds)) if seconds else None,
                    p90=timedelta(seconds=_p90(seconds)) if seconds else None,
                )
            )
    return results


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def humanize(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"
