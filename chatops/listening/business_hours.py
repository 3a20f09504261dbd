"""Response deadlines counted in business hours, in the agency's own time zone.

"Reply within 4 business hours" means 4 hours of the desk being open: a mention at 16:00
on a Friday is due at 12:00 on Monday, not at 20:00 on Friday. Opening hours are wall-clock
times in the agency's zone, so each business day's window is located on the local calendar
and only then converted to an instant; the time inside a window is counted as real elapsed
time. Around a DST change the deadline therefore lands on the right local hour, and the UTC
result moves by the change of offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: n for names in (DAY_NAMES, _FULL_NAMES) for n, name in enumerate(names)}
_SPEC = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})(?:\s+(\S.*))?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
WORKWEEK = frozenset({0, 1, 2, 3, 4})
_EXAMPLES = "'09:00-17:00', '09:00-17:00 mon-fri' or '08:30-16:30 mon,tue,wed,thu,fri,sat'"


@dataclass(frozen=True)
class BusinessHours:
    """When the desk is staffed: one daily window, on some days of the week (Monday=0)."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = WORKWEEK

    def __post_init__(self) -> None:
        """Refuse windows that would make every deadline infinite or ill-defined."""
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Business hours are wall-clock times: give start and end no tzinfo.")
        if self.start >= self.end:
            raise ValueError(
                f"Opening time {self.start:%H:%M} must be before closing time {self.end:%H:%M} "
                "(a window that runs past midnight is not supported)."
            )
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError(
                f"Business days must be a non-empty set of 0 (Monday) to 6 (Sunday), "
                f"not {sorted(self.weekdays)}."
            )

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """Read an admin's setting such as '09:00-17:00 mon-fri' (days default to Mon-Fri)."""
        match = _SPEC.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"I could not read {text!r} as business hours. Try {_EXAMPLES}.")
        opening, closing, days = match.groups()
        weekdays = _parse_days(days, text) if days else WORKWEEK
        return cls(
            start=_parse_clock(opening, text), end=_parse_clock(closing, text), weekdays=weekdays
        )


def _parse_clock(value: str, text: str) -> time:
    """'08:30' -> time(8, 30), naming the offending part of `text` when out of range."""
    match = _CLOCK.fullmatch(value)
    hour, minute = (int(part) for part in match.groups()) if match else (-1, -1)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(
            f"{value!r} in {text!r} is not a time of day: use HH:MM from 00:00 to 23:59."
        )
    return time(hour, minute)


def _parse_days(days: str, text: str) -> frozenset[int]:
    """'mon-fri', 'mon,wed,fri' or a mix such as 'mon-wed,sat'; a range may wrap (sun-thu)."""
    chosen: set[int] = set()
    for item in days.replace(" ", "").lower().split(","):
        first, dash, last = item.partition("-")
        start = _day_number(first, text)
        stop = _day_number(last, text) if dash else start
        chosen.update((start + offset) % 7 for offset in range((stop - start) % 7 + 1))
    return frozenset(chosen)


def _day_number(name: str, text: str) -> int:
    """Monday=0 ... Sunday=6, with an error that lists the accepted names."""
    if name not in _DAY_NUMBERS:
        problem = f"{name!r} in {text!r} is not a day" if name else f"A day is missing in {text!r}"
        raise ValueError(
            f"{problem}: use {', '.join(DAY_NAMES)}, a range such as mon-fri, "
            "or a comma-separated list such as mon,wed,fri."
        )
    return _DAY_NUMBERS[name]


def add_business_time(
    start: datetime,
    duration: timedelta,
    zone: ZoneInfo,
    hours: BusinessHours = BusinessHours(),
) -> datetime:
    """The UTC moment when `duration` of open-desk time has passed since `start`.

    A start outside business hours starts the count at the next opening; a deadline that
    uses up a day's window exactly is that day's closing time, not the next opening.
    """
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    moment, remaining = _utc(start, "start"), duration
    for opening, closing in _windows(moment, zone, hours):
        cursor = max(moment, opening)
        if cursor < closing and remaining <= closing - cursor:
            return cursor + remaining
        remaining -= max(closing - cursor, timedelta(0))
    raise AssertionError("unreachable: business windows never run out")


def business_time_between(
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    hours: BusinessHours = BusinessHours(),
) -> timedelta:
    """Open-desk time elapsed from `start` to `end`, e.g. how long a mention waited."""
    since, until = _utc(start, "start"), _utc(end, "end")
    total = timedelta(0)
    if until <= since:
        return total
    for opening, closing in _windows(since, zone, hours):
        if opening >= until:
            break
        total += max(min(closing, until) - max(opening, since), timedelta(0))
    return total


def _windows(
    since: datetime, zone: ZoneInfo, hours: BusinessHours
) -> Iterator[tuple[datetime, datetime]]:
    """Business windows as UTC instants, from the local day containing `since` onwards.

    Each window is placed on the local calendar (09:00 stays 09:00 across a DST change)
    and then converted. A window never starts before the previous one closed, so no time
    is counted twice on the rare days a zone repeats or skips.
    """
    day, previous_close = since.astimezone(zone).date(), since
    while True:
        if day.weekday() in hours.weekdays:
            opening = max(_instant(day, hours.start, zone), previous_close)
            closing = max(_instant(day, hours.end, zone), opening)
            previous_close = closing
            yield opening, closing
        day += timedelta(days=1)


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    A repeated time (clocks going back) is its first occurrence; a skipped one (clocks going
    forward) is read with the old offset, so 02:30 on a US spring-forward day is 03:30.
    """
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _utc(moment: datetime, what: str) -> datetime:
    """Reject naive datetimes: 'Friday 16:00' means nothing without a zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)
