"""Natural-language publication times ("tomorrow 9am") in the agency's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser

from chatops.domain.errors import InvalidInput

EXAMPLES = (
    '`--at "tomorrow 9am"`, `--at "friday 15:30"`, `--at "in 2 hours"` or `--at 2026-12-01T09:00`'
)


NOW = frozenset({"now", "right now", "immediately", "asap", "at once"})
"""Ways of saying "no later than approval": the same as giving no `--at` at all."""


def parse_when(text: str, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """Parse `text` as a future moment in `zone`; return it in UTC, or None for "now".

    Relative phrases are resolved from `now` as seen on the agency's wall clock, so
    "tomorrow 9am" means 9am tomorrow in CHATOPS_TIMEZONE whatever the server's zone.
    "now" cannot be a future moment by the time anyone approves it, so it means what it
    says: publish as soon as approved, exactly as without `--at`.
    """
    if " ".join(text.lower().split()) in NOW:
        return None
    when = _parse(text, now=now, zone=zone, prefer="future")
    if when is None:
        raise InvalidInput(f"I could not read {text!r} as a time.", hint=f"Try {EXAMPLES}.")
    if when <= now:
        raise InvalidInput(
            f"{text!r} is {format_local(when, zone)}, which is in the past.",
            hint=f"Try {EXAMPLES}.",
        )
    return when


def parse_since(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """Parse a moment in the past ("yesterday", "2 hours ago", a date) for audit queries."""
    parsed = _parse(text, now=now, zone=zone, prefer="past")
    if parsed is None:
        raise InvalidInput(
            f"I could not read {text!r} as a time.",
            hint='Try `--since "yesterday"`, `--since "2 hours ago"` or `--since 2026-11-01`.',
        )
    return parsed


def _parse(text: str, *, now: datetime, zone: ZoneInfo, prefer: str) -> datetime | None:
    local_now = now.astimezone(zone)
    parsed = dateparser.parse(
        text,
        settings={
            "TIMEZONE": zone.key,
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": prefer,
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
        },
    )
    return None if parsed is None else parsed.astimezone(UTC)


def format_local(moment: datetime, zone: ZoneInfo) -> str:
    """How a time is shown to people: their agency's wall clock, with the zone."""
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
