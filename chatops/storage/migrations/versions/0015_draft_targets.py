"""Drafts publish to many accounts: one target row per draft and account, one outbox row
per draft and target; mentions name the account they were addressed to; a channel can
name its default targets; sandbox posts name their network.

Backfill. Every draft gets one target, its account, in the state its publication was in
(published with its link, failed with its error, publishing, or waiting), and its outbox
row points at that target, so a publication queued or in flight before the upgrade carries
on exactly once. Mentions stored before know no account (""); sandbox posts were on the
`sandbox` network, the only one there was.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("published_external_id", sa.String(length=64), nullable=True),
        sa.Column("published_url", sa.String(length=512), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name=op.f("fk_draft_targets_draft_id_drafts")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_draft_targets_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_targets")),
        sa.UniqueConstraint(
            "draft_id", "account_id", name=op.f("uq_draft_targets_draft_id_account_id")
        ),
    )
    op.create_index(op.f("ix_draft_targets_draft_id"), "draft_targets", ["draft_id"])
    op.execute(
        """
        INSERT INTO draft_targets (draft_id, account_id, position, variant, state,
            published_external_id, published_url, published_at, error, updated_at)
        SELECT id, account_id, 0, NULL,
            CASE state WHEN 'published' THEN 'published' WHEN 'failed' THEN 'failed'
                WHEN 'publishing' THEN 'publishing' ELSE 'waiting' END,
            published_external_id, published_url, published_at,
            CASE state WHEN 'failed' THEN error ELSE NULL END, updated_at
        FROM drafts
        """
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE outbox SET target_id = (SELECT t.id FROM draft_targets t "
        "WHERE t.draft_id = outbox.draft_id)"
    )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("target_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_outbox_draft_id", type_="unique")
        batch.create_unique_constraint(
            op.f("uq_outbox_draft_id_target_id"), ["draft_id", "target_id"]
        )
        batch.create_foreign_key(
            op.f("fk_outbox_target_id_draft_targets"), "draft_targets", ["target_id"], ["id"]
        )
        batch.create_index(op.f("ix_outbox_draft_id"), ["draft_id"])
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(
            sa.Column("account", sa.String(length=128), nullable=False, server_default="")
        )
    with op.batch_alter_table("channel_settings") as batch:
        batch.add_column(sa.Column("default_targets", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("sandbox_posts") as batch:
        batch.add_column(
            sa.Column("network", sa.String(length=32), nullable=False, server_default="sandbox")
        )


def downgrade() -> None:
    """Back to one account per draft: a draft keeps its first target; the outbox rows of
    its other targets go (their publications, if any, stay recorded in the audit log)."""
    with op.batch_alter_table("sandbox_posts") as batch:
        batch.drop_column("network")
    with op.batch_alter_table("channel_settings") as batch:
        batch.drop_column("default_targets")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("account")
    op.execute(
        "DELETE FROM outbox WHERE target_id NOT IN "
        "(SELECT id FROM draft_targets WHERE position = 0)"
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(op.f("ix_outbox_draft_id"))
        batch.drop_constraint(op.f("fk_outbox_target_id_draft_targets"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_outbox_draft_id_target_id"), type_="unique")
        batch.create_unique_constraint("uq_outbox_draft_id", ["draft_id"])
        batch.drop_column("target_id")
    op.drop_index(op.f("ix_draft_targets_draft_id"), table_name="draft_targets")
    op.drop_table("draft_targets")
