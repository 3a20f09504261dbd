"""Images on drafts (with their alt text), and on sandbox posts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("drafts", "sandbox_posts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("media", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    for table in ("drafts", "sandbox_posts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("media")
