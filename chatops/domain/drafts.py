"""The draft state machine: the only place that decides which transitions exist."""

from __future__ import annotations

from enum import StrEnum

from chatops.domain.errors import IllegalTransition
from chatops.domain.types import DraftState


class DraftEvent(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    EDIT = "edit"
    DUE = "due"
    PUBLISHED = "published"
    ERROR = "error"
    RETRY = "retry"


_S = DraftState
_E = DraftEvent

TRANSITIONS: dict[tuple[DraftState, DraftEvent], DraftState] = {
    (_S.PENDING, _E.APPROVE): _S.APPROVED,
    (_S.PENDING, _E.REJECT): _S.REJECTED,
    (_S.PENDING, _E.CANCEL): _S.CANCELLED,
    (_S.APPROVED, _E.CANCEL): _S.CANCELLED,
    (_S.PENDING, _E.EDIT): _S.PENDING,
    (_S.APPROVED, _E.EDIT): _S.PENDING,
    (_S.REJECTED, _E.EDIT): _S.PENDING,  # revised and resubmitted: a new revision
    (_S.APPROVED, _E.DUE): _S.PUBLISHING,
    (_S.PUBLISHING, _E.PUBLISHED): _S.PUBLISHED,
    (_S.PUBLISHING, _E.ERROR): _S.FAILED,
    (_S.FAILED, _E.RETRY): _S.APPROVED,
}

_VERBS = {
    _E.APPROVE: "approved",
    _E.REJECT: "rejected",
    _E.CANCEL: "cancelled",
    _E.EDIT: "edited",
    _E.DUE: "published",
    _E.PUBLISHED: "marked published",
    _E.ERROR: "marked failed",
    _E.RETRY: "retried",
}

_WHY = {
    _S.APPROVED: "it is already approved and waiting to be published",
    _S.PUBLISHING: "it is being published right now",
    _S.PUBLISHED: "it has already been published",
    _S.REJECTED: "it was rejected",
    _S.CANCELLED: "it was cancelled",
    _S.FAILED: "its publication failed; retry it with `/social retry ID` or cancel it",
    _S.PENDING: "it is still waiting for approval",
}


def next_state(draft_id: int, state: DraftState, event: DraftEvent) -> DraftState:
    """Return the state after `event`, or raise `IllegalTransition` in plain words."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(
            f"Draft {draft_id} cannot be {_VERBS[event]}: {_WHY[state]}.",
            hint=_hint(draft_id, state),
        ) from None


def allowed_events(state: DraftState) -> frozenset[DraftEvent]:
    return frozenset(event for (origin, event) in TRANSITIONS if origin is state)


def _hint(draft_id: int, state: DraftState) -> str:
    if state is _S.REJECTED:
        return f"Revise it with `/social edit {draft_id} NEW TEXT`: it goes back for approval."
    if state in (_S.CANCELLED, _S.PUBLISHED):
        return "Start a new draft with `/post TEXT` if you need another post."
    return "See `/social queue` for what can still be acted on."
