"""The domain's value types, free of storage and platform concerns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chatops.domain.accounts import DraftTarget, TargetState


class DraftState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"


class DraftKind(StrEnum):
    POST = "post"
    REPLY = "reply"


class Role(StrEnum):
    APPROVER = "approver"
    ADMIN = "admin"


class Via(StrEnum):
    """How a person expressed a decision; every way counts the same."""

    COMMAND = "command"
    BUTTON = "button"
    REACTION = "reaction"
    MODAL = "modal"
    SYSTEM = "system"


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"


@dataclass(frozen=True)
class Actor:
    """Someone acting in chat, or the bot itself (platform `system`).

    `channel` is where they acted, recorded with every decision they make. `workspace` is
    the tenant they act from (a Slack team id, a Teams tenant id; "" on the console and the
    sandbox): they see and decide only what belongs to it.
    """

    platform: str
    user_id: str
    display_name: str = ""
    channel: str = ""
    workspace: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.user_id


SYSTEM_ACTOR = Actor(platform="system", user_id="chatops", display_name="chatops")


@dataclass(frozen=True)
class ChannelRef:
    platform: str
    channel_id: str
    workspace_id: str = ""


@dataclass(frozen=True)
class MessageRef:
    """Where a card or message lives on a chat platform, so it can be updated in place."""

    channel: ChannelRef
    message_id: str


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    suggestion: str = ""
    span: tuple[int, int] | None = None
    override: str = ""
    """For a warning an admin accepted: who, and why."""
    target: str = ""
    """The target it applies to (`x:@PortAlderCity`); "" for every target of the draft."""


@dataclass(frozen=True)
class MediaItem:
    """An image attached to a draft; `alt_text` is what screen readers say about it."""

    url: str
    alt_text: str = ""


@dataclass(frozen=True)
class Author:
    """Someone who wrote part of a draft: its creator, or anyone who changed its content."""

    platform: str
    user_id: str
    name: str = ""


@dataclass(frozen=True)
class Approval:
    approver: str
    platform: str
    via: Via
    at: datetime


@dataclass(frozen=True)
class Draft:
    id: int
    kind: DraftKind
    state: DraftState
    network: str
    account: str
    text: str
    author: str
    author_platform: str
    created_at: datetime
    revision: int
    required_approvals: int
    scheduled_at: datetime | None = None
    reply_to_id: str | None = None
    reply_to_url: str | None = None
    published_id: str | None = None
    published_url: str | None = None
    published_at: datetime | None = None
    error: str | None = None
    findings: tuple[Finding, ...] = ()
    approvals: tuple[Approval, ...] = ()
    media: tuple[MediaItem, ...] = ()
    workspace: str = ""
    """The workspace the draft was written in, which alone may see and decide it."""
    channel: str = ""
    """The channel it was written in (on `author_platform`): where news of a draft whose
    card could not be posted goes."""
    authors: tuple[Author, ...] = ()
    """Everyone who wrote part of it, creator first; `author` is the creator alone."""
    targets: tuple[DraftTarget, ...] = ()
    """Every account it publishes to, in the order they were named; `network` and
    `account` (and the `published_*` fields) are the first target's."""

    def target(self, key: str) -> DraftTarget | None:
        wanted = key.lower()
        return next((t for t in self.targets if t.key.lower() == wanted), None)

    @property
    def failed_targets(self) -> tuple[DraftTarget, ...]:
        return tuple(t for t in self.targets if t.state is TargetState.FAILED)

    @property
    def published_targets(self) -> tuple[DraftTarget, ...]:
        return tuple(t for t in self.targets if t.state is TargetState.PUBLISHED)

    @property
    def partly_published(self) -> bool:
        """Failed on some targets, published on others."""
        return self.state is DraftState.FAILED and bool(self.published_targets)

    @property
    def summary(self) -> str:
        """The state in words, naming the targets that failed when only some did."""
        if self.partly_published:
            failed = ", ".join(t.key for t in self.failed_targets)
            return f"partly published (failed: {failed})"
        return self.state.value

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(approval.approver for approval in self.approvals)

    def written_by(self, actor: Actor) -> bool:
        """Whether `actor` wrote any part of it (created it or changed its content)."""
        if actor.platform == self.author_platform and actor.user_id == self.author:
            return True
        return any(
            a.platform == actor.platform and a.user_id == actor.user_id for a in self.authors
        )

    @property
    def blocking_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCKING)


@dataclass(frozen=True)
class MentionAuthor:
    handle: str
    name: str = ""
    followers: int = 0
    verified: bool = False


@dataclass(frozen=True)
class Mention:
    """A public post that mentions the agency, as a social network reported it."""

    network: str
    external_id: str
    url: str
    author: MentionAuthor
    text: str
    created_at: datetime
    language: str = ""
    in_reply_to: str | None = None
    kind: str = "post"
    refers_to: str | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    account: str = ""
    """The agency's account it was addressed to (a mention of it, or a reply to it); "" for
    a post found by a search that names no account of the agency."""


@dataclass(frozen=True)
class StoredMention:
    id: int
    mention: Mention


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: ChannelRef
    rule: str
    keywords: tuple[str, ...]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Alert:
    id: int
    subscription_id: int
    mention: StoredMention
    channel: ChannelRef
    state: str
    matched: tuple[str, ...]
    message: MessageRef | None = None
    assignee: str | None = None
    handled_by: str | None = None
    repeats: int = 0
    score: int = 0
    score_reasons: tuple[str, ...] = ()
    is_question: bool = False


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    platform: str
    channel: str
    action: str
    draft_id: int | None
    details: dict[str, object]
    # Its place in the hash chain: seq counts from 1 without gaps; hash covers the fields
    # above but the id, and prev_hash, which is the hash of event seq - 1.
    seq: int
    prev_hash: str
    hash: str
    workspace: str = ""
