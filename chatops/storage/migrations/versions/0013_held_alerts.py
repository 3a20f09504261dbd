"""Alerts held by the per-minute cap wait for room instead of going to the digest.

`alerts.queued_at` is when an alert was let through to go out at once; the cap counts the
alerts a channel had queued in the last minute. An alert over the cap is now `held`: it
waits, and is let through (highest score first) as the cap allows in later minutes.
`channel_settings.cap_noticed_at` is when the channel was told the cap is holding alerts,
so each burst gets one notice.

Backfill. Every alert that was queued to go out at once was queued when it was created.
Alerts the cap sent to the digest before this migration cannot be told apart from a
digest-only rule's (both are `digest`); they stay in the next digest, as they would have.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE alerts SET queued_at = created_at WHERE delivery <> 'digest'")
    with op.batch_alter_table("channel_settings") as batch:
        batch.add_column(sa.Column("cap_noticed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE alerts SET delivery = 'digest', in_digest = true WHERE delivery = 'held'")
    with op.batch_alter_table("channel_settings") as batch:
        batch.drop_column("cap_noticed_at")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("queued_at")
