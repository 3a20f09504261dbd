"""Listening: scores on mentions, repost collapse, digests, spikes, the reply inbox,
watch lists and the emergency lexicon.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("digest_at", sa.String(length=5), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_settings")),
        sa.UniqueConstraint(
            "platform",
            "workspace_id",
            "channel_id",
            name=op.f("uq_channel_settings_platform_workspace_id_channel_id"),
        ),
    )
    op.create_table(
        "spike_states",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_spike_states")),
    )
    op.create_table(
        "urgent_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=128), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_terms")),
        sa.UniqueConstraint("term", name=op.f("uq_urgent_terms_term")),
    )
    op.create_table(
        "watch_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("handle", sa.String(length=128), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_entries")),
        sa.UniqueConstraint("handle", name=op.f("uq_watch_entries_handle")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("root_key", sa.String(length=96), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("in_digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("is_question", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resurfaced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_alerts_channel_created",
            ["platform", "workspace_id", "channel_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_alerts_root", ["root_key", "platform", "workspace_id", "channel_id"], unique=False
        )

    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("sentiment", sa.String(length=16), nullable=False, server_default="neutral")
        )
        batch_op.add_column(
            sa.Column("is_question", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index(batch_op.f("ix_mentions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentions_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_received_at"))
        batch_op.drop_index(batch_op.f("ix_mentions_created_at"))
        batch_op.drop_column("reasons")
        batch_op.drop_column("is_question")
        batch_op.drop_column("sentiment")
        batch_op.drop_column("score")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_root")
        batch_op.drop_index("ix_alerts_channel_created")
        batch_op.drop_column("responded_at")
        batch_op.drop_column("resurfaced_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("is_question")
        batch_op.drop_column("digested_at")
        batch_op.drop_column("in_digest")
        batch_op.drop_column("repeats")
        batch_op.drop_column("root_key")

    op.drop_table("watch_entries")
    op.drop_table("urgent_terms")
    op.drop_table("spike_states")
    op.drop_table("channel_settings")
