"""Accounts and publication targets: the places a draft can be published to.

An agency speaks through many accounts on many networks. A network is named by the
agency's configuration (`x`, or `sandbox-mastodon` in the sandbox) and follows the rules of
its kind (`x`, `mastodon`, `bluesky`), so the policy of the sandbox's Mastodon is
Mastodon's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

NETWORK_KINDS = ("x", "mastodon", "bluesky")


def target_key(network: str, handle: str) -> str:
    """How people type and read a target: `x:@PortAlderCity`."""
    return f"{network}:@{handle}"


@dataclass(frozen=True)
class Account:
    """A social account the agency may publish from (and listens on)."""

    network: str
    handle: str
    kind: str
    label: str
    """The network's name for people: "X", "Sandbox Mastodon"."""
    required_approvals: int | None = None
    """Distinct approvers a draft to this account needs; None: the agency's default."""
    default: bool = False

    @property
    def key(self) -> str:
        return target_key(self.network, self.handle)

    @property
    def title(self) -> str:
        """`X @PortAlderCity`: the account as a card names it."""
        return f"{self.label} @{self.handle}"


@dataclass(frozen=True)
class AccountHealth:
    """What `/social accounts` and `chatops doctor` say about one account."""

    account: Account
    can_read: bool
    can_publish: bool
    problem: str = ""
    """What is wrong when it cannot read or publish, in words an admin can act on."""


class TargetState(StrEnum):
    """One target's publication: a draft's state summarizes its targets'."""

    WAITING = "waiting"
    """Not published yet: the draft is pending, approved or scheduled."""
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"


@dataclass(frozen=True)
class DraftTarget:
    """One account a draft publishes to, with its own text if it has a variant."""

    id: int
    network: str
    account: str
    position: int
    state: TargetState = TargetState.WAITING
    variant: str | None = None
    """The target's own text; None: the draft's text."""
    published_id: str | None = None
    published_url: str | None = None
    published_at: datetime | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return target_key(self.network, self.account)

    def text(self, draft_text: str) -> str:
        return draft_text if self.variant is None else self.variant
