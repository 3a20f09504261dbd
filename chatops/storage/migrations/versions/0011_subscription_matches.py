"""Every subscription that matched each alert's mention, so `/alerts list` counts each rule.

A channel gets one alert per mention however many of its rules match it; the alert names
only the first (`alerts.subscription_id`), so counting alerts by that column credited every
shared match to the first rule. `subscription_matches` records each matching rule.

Backfill. Which other rules matched an existing alert was never stored; each existing
alert counts for the subscription it names, which is what `/alerts list` showed before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription_matches",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_matches_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_subscription_matches_mention_id_mentions"),
        ),
        sa.PrimaryKeyConstraint(
            "subscription_id", "mention_id", name=op.f("pk_subscription_matches")
        ),
    )
    op.create_index("ix_subscription_matches_created", "subscription_matches", ["created_at"])
    op.execute(
        "INSERT INTO subscription_matches (subscription_id, mention_id, created_at) "
        "SELECT subscription_id, mention_id, created_at FROM alerts"
    )


def downgrade() -> None:
    op.drop_index("ix_subscription_matches_created", table_name="subscription_matches")
    op.drop_table("subscription_matches")
