"""Business-hours deadlines: opening hours, weekends, DST changes and the settings syntax."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatops.listening.business_hours import BusinessHours, add_business_time, business_time_between

CHICAGO = ZoneInfo("America/Chicago")
H = timedelta(hours=1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# add_business_time


def test_a_deadline_runs_over_the_weekend() -> None:
    due = add_business_time(local(2026, 11, 20, 16, 0), 2 * H, CHICAGO)  # a Friday
    assert due == local(2026, 11, 23, 10, 0)  # Monday
    assert due.utcoffset() == timedelta(0)  # returned in UTC
    assert due == utc(2026, 11, 23, 16, 0)


def test_a_deadline_can_fall_at_closing_time() -> None:
    assert add_business_time(local(2026, 11, 20, 16, 0), H, CHICAGO) == local(2026, 11, 20, 17)


def test_a_weekend_start_counts_from_monday_opening() -> None:
    saturday = local(2026, 11, 21, 11, 0)
    assert add_business_time(saturday, timedelta(0), CHICAGO) == local(2026, 11, 23, 9, 0)
    assert add_business_time(saturday, H, CHICAGO) == local(2026, 11, 23, 10, 0)


def test_an_early_start_counts_from_opening() -> None:
    early = local(2026, 11, 23, 8, 0)
    assert add_business_time(early, 30 * timedelta(minutes=1), CHICAGO) == local(
        2026, 11, 23, 9, 30
    )
    late = local(2026, 11, 23, 18, 0)
    assert add_business_time(late, H, CHICAGO) == local(2026, 11, 24, 10, 0)


def test_a_deadline_across_spring_forward_keeps_local_hours() -> None:
    # US clocks go forward on Sunday 2026-03-08: Friday is UTC-6, Monday UTC-5.
    friday = local(2026, 3, 6, 16, 0)
    assert friday == utc(2026, 3, 6, 22, 0)
    due = add_business_time(friday, 2 * H, CHICAGO)
    assert due == utc(2026, 3, 9, 15, 0)  # Monday 10:00 CDT, not 16:00 UTC
    assert due.astimezone(CHICAGO).time() == time(10, 0)
    assert business_time_between(friday, due, CHICAGO) == 2 * H


def test_a_deadline_across_fall_back_keeps_local_hours() -> None:
    # US clocks go back on Sunday 2026-11-01: Friday is UTC-5, Monday UTC-6.
    due = add_business_time(local(2026, 10, 30, 16, 0), 2 * H, CHICAGO)
    assert due == utc(2026, 11, 2, 16, 0)  # Monday 10:00 CST


def test_a_long_duration_spans_weeks() -> None:
    due = add_business_time(local(2026, 11, 23, 9, 0), 80 * H, CHICAGO)
    assert due == local(2026, 12, 4, 17, 0)  # two full 40-hour weeks: Friday closing


def test_custom_hours_and_days() -> None:
    six_days = BusinessHours.parse("08:30-16:30 mon,tue,wed,thu,fri,sat")
    saturday = local(2026, 11, 21, 16, 0)
    assert add_business_time(saturday, H, CHICAGO, six_days) == local(2026, 11, 23, 9, 0)


def test_add_business_time_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(datetime(2026, 11, 20, 16), H, CHICAGO)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(local(2026, 11, 20, 16), -H, CHICAGO)


# business_time_between


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (local(2026, 11, 23, 10), local(2026, 11, 23, 15), 5 * H),
        (local(2026, 11, 20, 16, 30), local(2026, 11, 23, 9, 30), H),  # over a weekend
        (local(2026, 11, 21, 9), local(2026, 11, 22, 17), timedelta(0)),  # all weekend
        (local(2026, 11, 23, 8), local(2026, 11, 24, 8), 8 * H),  # one whole day
        (local(2026, 11, 23, 8), local(2026, 11, 30, 8), 40 * H),  # one whole week
        (local(2026, 11, 23, 18), local(2026, 11, 24, 7), timedelta(0)),  # overnight
        (local(2026, 11, 23, 15), local(2026, 11, 23, 10), timedelta(0)),  # end before start
        (utc(2026, 11, 23, 16), local(2026, 11, 23, 11), H),  # mixed zones: instants count
    ],
)
def test_business_time_between(start: datetime, end: datetime, expected: timedelta) -> None:
    assert business_time_between(start, end, CHICAGO) == expected


# BusinessHours.parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-17:00", BusinessHours()),
        ("09:00-17:00 mon-fri", BusinessHours()),
        (
            "08:30-16:30 mon,tue,wed,thu,fri,sat",
            BusinessHours(time(8, 30), time(16, 30), frozenset(range(6))),
        ),
        (" 7:00 - 15:00  Sun-Thu ", BusinessHours(time(7), time(15), frozenset({6, 0, 1, 2, 3}))),
        ("10:00-18:00 mon-wed, fri", BusinessHours(time(10), time(18), frozenset({0, 1, 2, 4}))),
        ("09:00-17:00 saturday", BusinessHours(weekdays=frozenset({5}))),
    ],
)
def test_parse_accepts(text: str, expected: BusinessHours) -> None:
    assert BusinessHours.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "could not read '' as business hours. Try '09:00-17:00'"),
        ("9-5", "could not read '9-5' as business hours"),
        ("09:00", "could not read"),
        ("17:00-09:00", "Opening time 17:00 must be before closing time 09:00"),
        ("09:00-09:00", "Opening time 09:00 must be before"),
        ("24:00-25:00", "'24:00' in '24:00-25:00' is not a time of day: use HH:MM"),
        ("09:00-17:60", "'17:60' .* is not a time of day"),
        ("09:00-17:00 funday", "'funday' in '09:00-17:00 funday' is not a day: use mon, tue"),
        ("09:00-17:00 mon-", "A day is missing in '09:00-17:00 mon-': use mon"),
        ("09:00-17:00 mon,,fri", "A day is missing in"),
    ],
)
def test_parse_refuses_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(text)


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="non-empty set of 0"):
        BusinessHours(weekdays=frozenset())
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6 \\(Sunday\\)"):
        BusinessHours(weekdays=frozenset({7}))
    with pytest.raises(ValueError, match="no tzinfo"):
        BusinessHours(start=time(9, tzinfo=UTC))


# the round trip

ZONES = [
    CHICAGO,
    ZoneInfo("Europe/London"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Australia/Lord_Howe"),  # a half-hour DST shift
    ZoneInfo("America/Santiago"),  # changes at midnight
]
HOURS = [
    BusinessHours(),
    BusinessHours.parse("08:30-16:30 mon,tue,wed,thu,fri,sat"),
    BusinessHours.parse("01:00-03:00 mon-sun"),  # straddles the 02:00 changes
    BusinessHours.parse("00:00-23:59 sun"),
]


@given(
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(0, 5 * 24 * 60),
    zone=st.sampled_from(ZONES),
    hours=st.sampled_from(HOURS),
)
def test_elapsed_business_time_undoes_adding_it(
    start: datetime, minutes: int, zone: ZoneInfo, hours: BusinessHours
) -> None:
    duration = timedelta(minutes=minutes)
    due = add_business_time(start, duration, zone, hours)
    assert due >= start
    assert business_time_between(start, due, zone, hours) == duration
