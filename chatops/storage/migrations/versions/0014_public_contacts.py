"""The agency's public contacts (phone numbers, email addresses, domains) that admins add in
chat with `/social contacts add`; drafts never count them as personal data.

Backfill. None: the list starts empty (CHATOPS_PUBLIC_CONTACTS, read from the settings,
applies as well).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_contacts")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_public_contacts_kind_value")),
    )


def downgrade() -> None:
    op.drop_table("public_contacts")
