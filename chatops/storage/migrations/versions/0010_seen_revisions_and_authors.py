"""Which revision each card shows, and every author of a draft.

`cards.revision` is the draft revision a card message displays: set when the card is
posted, moved forward only when an update of that message succeeded. A reaction on a card
approves that revision and no other, so a card whose update failed after an edit cannot
approve the new text.

`drafts.authors` lists everyone who wrote part of the draft (platform, user id, name): the
author who created it, then each person who changed its content. None of them may approve it.

Backfill. What an existing card message shows is not recorded anywhere, so it cannot be
known: the card may have been updated after the last edit, or its update may have failed.
The draft's revision at migration time is the only value to give it: an older one would
refuse reactions on cards that are current (most of them), and there is nothing newer.
Cards posted before buttons carried revisions are still safe to click: their buttons
carry no revision, which the bot treats as outdated (it refuses and shows the current
card). Existing drafts' authors are their one recorded author; their names were not
stored, so the user id stands in for the name.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

AUTHORS_BACKFILL = {
    "postgresql": (
        "UPDATE drafts SET authors = json_build_array(json_build_object("
        "'platform', author_platform, 'user_id', author, 'name', author))"
    ),
    "sqlite": (
        "UPDATE drafts SET authors = json_array(json_object("
        "'platform', author_platform, 'user_id', author, 'name', author))"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE cards SET revision = (SELECT drafts.revision FROM drafts "
        "WHERE drafts.id = cards.draft_id)"
    )
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("authors", sa.JSON(), nullable=False, server_default="[]"))
    op.execute(AUTHORS_BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("authors")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("revision")
