"""The approval reactions each person has on each card.

Removing one approval reaction withdraws the person's approval only when they have no other
approval reaction left on that card, so the bot records the reactions it sees (normalized
names, `chatops.chat.reactions`).

Backfill. None: the reactions on existing cards were never recorded. A reaction added before
this migration is unknown, so removing a later one withdraws the approval as before, even if
the earlier one is still on the card; removing the earlier one withdraws it too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("reaction", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_card_reactions_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_reactions")),
        sa.UniqueConstraint(
            "card_id",
            "user_id",
            "reaction",
            name=op.f("uq_card_reactions_card_id_user_id_reaction"),
        ),
    )
    op.create_index(op.f("ix_card_reactions_card_id"), "card_reactions", ["card_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_card_reactions_card_id"), table_name="card_reactions")
    op.drop_table("card_reactions")
