"""The relational schema. Alembic migrations in `migrations/` create and evolve it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite would otherwise return naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class AccountRow(Base):
    """A social account the agency posts from; credentials are named, never stored."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("network", "handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(128))
    external_user_id: Mapped[str | None] = mapped_column(String(64))
    required_approvals: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    author_platform: Mapped[str] = mapped_column(String(32))
    origin_workspace: Mapped[str] = mapped_column(String(64), default="")
    origin_channel: Mapped[str] = mapped_column(String(128), default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    required_approvals: Mapped[int] = mapped_column(Integer)
    scheduled_at: Mapped[datetime | None]
    reply_to_mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(64))
    reply_to_url: Mapped[str | None] = mapped_column(String(512))
    published_external_id: Mapped[str | None] = mapped_column(String(64))
    published_url: Mapped[str | None] = mapped_column(String(512))
    published_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Everyone who wrote part of it, creator first: {"platform", "user_id", "name"} each."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DraftTargetRow(Base):
    """One account a draft publishes to: its own text (a variant) and its publication."""

    __tablename__ = "draft_targets"
    __table_args__ = (UniqueConstraint("draft_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    position: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    published_external_id: Mapped[str | None] = mapped_column(String(64))
    published_url: Mapped[str | None] = mapped_column(String(512))
    published_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ApprovalRow(Base):
    """One approver's approval of one revision; an edit starts a new revision."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("draft_id", "revision", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class CardRow(Base):
    """A chat message showing a draft, so reactions find the draft and updates find the card.

    `revision` is the draft revision the message displays (updated only when an update of
    the message succeeded): a reaction on it approves that revision and no other.
    """

    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    channel_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class CardReactionRow(Base):
    """An approval reaction a person has on a card (normalized name), so removing one of
    two leaves the approval standing: it is withdrawn only when none is left."""

    __tablename__ = "card_reactions"
    __table_args__ = (UniqueConstraint("card_id", "user_id", "reaction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(128))
    reaction: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class MentionRow(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("network", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128), default="", server_default="")
    """The agency's account it was addressed to; "" when a search found it."""
    external_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(512))
    author_handle: Mapped[str] = mapped_column(String(128))
    author_name: Mapped[str] = mapped_column(String(256), default="")
    author_followers: Mapped[int] = mapped_column(Integer, default=0)
    author_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(16), default="post")
    refers_to: Mapped[str | None] = mapped_column(String(64))
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score: Mapped[int] = mapped_column(Integer, default=0)
    sentiment: Mapped[str] = mapped_column(String(16), default="neutral")
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_channel", "platform", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    channel_id: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class AlertRow(Base):
    """One mention delivered to one channel; the unique key makes relaying idempotent."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("mention_id", "platform", "workspace_id", "channel_id"),
        Index("ix_alerts_root", "root_key", "platform", "workspace_id", "channel_id"),
        Index("ix_alerts_channel_created", "platform", "workspace_id", "channel_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"))
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    channel_id: Mapped[str] = mapped_column(String(128))
    matched: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="open")
    assignee: Mapped[str | None] = mapped_column(String(128))
    handled_by: Mapped[str | None] = mapped_column(String(128))
    handled_at: Mapped[datetime | None]
    root_key: Mapped[str] = mapped_column(String(96), default="")
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    in_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digested_at: Mapped[datetime | None]
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None]
    resurfaced_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    # pending, sending, sent, undeliverable; digest (a digest-only rule's); held (over the
    # channel's per-minute cap, waiting for room: `chatops.listening.alert_cap`).
    delivery: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    delivery_claimed_at: Mapped[datetime | None]
    # When the alert was let through to go out at once; the per-minute cap counts these.
    queued_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class SubscriptionMatchRow(Base):
    """A subscription that matched the mention of a new alert. A channel gets one alert per
    mention however many of its rules match; this records every rule that did, so each
    rule's own matches can be counted (`/alerts list`)."""

    __tablename__ = "subscription_matches"
    __table_args__ = (Index("ix_subscription_matches_created", "created_at"),)

    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), primary_key=True)
    created_at: Mapped[datetime]


class RoleRow(Base):
    """A role granted in chat, valid only in the workspace it was granted in."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(64), default="", server_default="")
    user_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime]


class AuditEventRow(Base):
    """Append-only record of every decision, for public-records requests.

    `seq` numbers the events of the hash chain without gaps (ids may skip: a rolled-back
    insert still uses up a PostgreSQL sequence value); `hash` covers the event's fields and
    `prev_hash`, the hash of event `seq - 1` (see `chatops.storage.audit`).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(32))
    draft_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    workspace: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)


class PollCursorRow(Base):
    """Where a poller stopped, so a restart neither misses nor repeats a mention."""

    __tablename__ = "poll_cursors"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime]


class OutboxRow(Base):
    """A publication to perform; a worker claims it, so a crash neither loses nor doubles it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "due_at"),
        UniqueConstraint("draft_id", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("draft_targets.id"))
    """One row per draft and target: each target is published exactly once."""
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SandboxPostRow(Base):
    """What the sandbox network "published": the local stand-in for a live post."""

    __tablename__ = "sandbox_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(32), default="sandbox", server_default="sandbox")
    account: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]


class ChatEventRow(Base):
    """Chat platform events already handled, so a redelivered event is handled once."""

    __tablename__ = "chat_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(index=True)


class ChannelSettingsRow(Base):
    """How a channel wants its digest: hourly, daily at a local time, or not at all."""

    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    channel_id: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(16), default="hourly")
    digest_at: Mapped[str] = mapped_column(String(5), default="08:00")
    last_digest_at: Mapped[datetime | None]
    # When the channel was told its per-minute cap is holding alerts back; cleared when
    # nothing is held any more, so each burst gets one notice.
    cap_noticed_at: Mapped[datetime | None]
    default_targets: Mapped[str] = mapped_column(Text, default="", server_default="")
    """What `/post` without `--to` publishes to from this channel (`/social targets set`);
    "" for the agency's default account."""


class SpikeStateRow(Base):
    """Whether a spike is under way for a subscription (or for all mentions), so it alerts once."""

    __tablename__ = "spike_states"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class WatchEntryRow(Base):
    """An account on one of the agency's watch lists (journalists, officials, partners)."""

    __tablename__ = "watch_entries"
    __table_args__ = (UniqueConstraint("handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_name: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(128))
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime]


class UrgentTermRow(Base):
    """An admin's addition to the emergency lexicon."""

    __tablename__ = "urgent_terms"
    __table_args__ = (UniqueConstraint("term"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(128))
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime]


class ConversationRow(Base):
    """How to reach a chat conversation later, proactively (Teams' conversation reference)."""

    __tablename__ = "chat_conversations"
    __table_args__ = (UniqueConstraint("platform", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(256))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class SensitiveTermRow(Base):
    """A word or phrase the agency flags on drafts, with its reason."""

    __tablename__ = "sensitive_terms"
    __table_args__ = (UniqueConstraint("term"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    blocking: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime]


class PublicContactRow(Base):
    """A phone number, email address or domain of the agency's that is not personal data."""

    __tablename__ = "public_contacts"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime]
