"""The draft state machine, policy findings and natural-language times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatops.domain.drafts import TRANSITIONS, DraftEvent, allowed_events, next_state
from chatops.domain.errors import IllegalTransition, InvalidInput
from chatops.domain.types import DraftState, Severity
from chatops.drafts.policy import check
from chatops.drafts.scheduling import parse_since, parse_when

S, E = DraftState, DraftEvent

DESIGN_TRANSITIONS = {
    (S.PENDING, E.APPROVE): S.APPROVED,
    (S.APPROVED, E.DUE): S.PUBLISHING,
    (S.PUBLISHING, E.PUBLISHED): S.PUBLISHED,
    (S.PENDING, E.REJECT): S.REJECTED,
    (S.PENDING, E.CANCEL): S.CANCELLED,
    (S.APPROVED, E.CANCEL): S.CANCELLED,
    (S.PENDING, E.EDIT): S.PENDING,
    (S.APPROVED, E.EDIT): S.PENDING,
    (S.REJECTED, E.EDIT): S.PENDING,  # revised and resubmitted (README's state machine)
    (S.PUBLISHING, E.ERROR): S.FAILED,
    (S.FAILED, E.RETRY): S.APPROVED,
}


def test_transitions_are_exactly_the_design() -> None:
    assert TRANSITIONS == DESIGN_TRANSITIONS


@pytest.mark.parametrize("state", list(DraftState))
@pytest.mark.parametrize("event", list(DraftEvent))
def test_every_pair_is_allowed_or_refused_in_words(state: DraftState, event: DraftEvent) -> None:
    if (state, event) in DESIGN_TRANSITIONS:
        assert next_state(7, state, event) is DESIGN_TRANSITIONS[(state, event)]
        assert event in allowed_events(state)
    else:
        with pytest.raises(IllegalTransition, match="Draft 7 cannot be"):
            next_state(7, state, event)


@given(st.lists(st.sampled_from(list(DraftEvent)), max_size=30))
def test_terminal_states_stay_terminal(events: list[DraftEvent]) -> None:
    state = DraftState.PENDING
    for event in events:
        try:
            new = next_state(1, state, event)
        except IllegalTransition:
            continue
        assert state not in (S.PUBLISHED, S.CANCELLED)
        assert state is not S.REJECTED or event is E.EDIT  # only a revision reopens it
        state = new


def test_a_rejected_draft_is_revised_not_restarted() -> None:
    assert next_state(4, S.REJECTED, E.EDIT) is S.PENDING
    with pytest.raises(IllegalTransition) as refused:
        next_state(4, S.REJECTED, E.APPROVE)
    assert "Revise it with `/social edit 4 NEW TEXT`" in str(refused.value)
    assert "Start a new draft" not in str(refused.value)


def test_weighted_length_counts_like_x() -> None:
    assert check("https://example.org/a/very/long/path/that/is/long").weighted_length == 23
    assert check("你好").weighted_length == 4
    assert check("😀").weighted_length == 2
    assert check("a" * 280).valid
    result = check("a" * 281)
    assert not result.valid
    [finding] = result.findings
    assert finding.severity is Severity.BLOCKING
    assert finding.code == "too_long"
    assert finding.span == (280, 281)
    assert not check("你" * 141).valid


def test_empty_and_near_limit_findings() -> None:
    empty = check("   ")
    assert not empty.valid
    assert empty.findings[0].code == "empty"
    near = check("b" * 270)
    assert near.valid
    assert [f.code for f in near.findings] == ["near_limit"]
    assert near.findings[0].severity is Severity.WARNING
    with pytest.raises(ValueError, match="unknown network"):
        check("hi", "myspace")


CHICAGO = ZoneInfo("America/Chicago")
FRIDAY_3PM_UTC = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_tomorrow_9am_is_in_the_agency_time_zone() -> None:
    when = parse_when("tomorrow 9am", now=FRIDAY_3PM_UTC, zone=CHICAGO)
    assert when == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert parse_when("in 2 hours", now=FRIDAY_3PM_UTC, zone=CHICAGO) == datetime(
        2026, 11, 20, 17, 0, tzinfo=UTC
    )
    assert parse_when("2026-12-01T09:00", now=FRIDAY_3PM_UTC, zone=CHICAGO) == datetime(
        2026, 12, 1, 15, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("now", ["now", "Now", " right  now ", "immediately"])
def test_now_means_as_soon_as_approved(now: str) -> None:
    assert parse_when(now, now=FRIDAY_3PM_UTC, zone=CHICAGO) is None


def test_past_and_unreadable_times_are_refused_with_examples() -> None:
    with pytest.raises(InvalidInput, match="in the past") as past:
        parse_when("2026-11-01 10:00", now=FRIDAY_3PM_UTC, zone=CHICAGO)
    assert "tomorrow 9am" in str(past.value)
    with pytest.raises(InvalidInput, match="could not read"):
        parse_when("when pigs fly", now=FRIDAY_3PM_UTC, zone=CHICAGO)


def test_since_reads_past_moments() -> None:
    assert parse_since("2 hours ago", now=FRIDAY_3PM_UTC, zone=CHICAGO) == datetime(
        2026, 11, 20, 13, 0, tzinfo=UTC
    )
    with pytest.raises(InvalidInput):
        parse_since("sometime", now=FRIDAY_3PM_UTC, zone=CHICAGO)
