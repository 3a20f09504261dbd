"""The audit log proves itself: a hash chain over its events, and no REPLACE past the triggers.

Adds `seq`, `prev_hash` and `hash` to audit_events and chains the events already recorded in
id order, so `chatops audit verify` passes on an upgraded database. On SQLite a new trigger
refuses an insert that collides with an existing event: `INSERT OR REPLACE` would otherwise
delete the old row without firing the DELETE trigger (SQLite fires delete triggers for
REPLACE only with `PRAGMA recursive_triggers`, which a stray client need not set). On
PostgreSQL `INSERT ... ON CONFLICT DO UPDATE` is an UPDATE and the 0006 trigger refuses it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatops.storage.audit import GENESIS_HASH, UNHASHED, chain_hash
from chatops.storage.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 1000

SQLITE_APPEND_ONLY = [
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE is not allowed'); END
    """,
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE is not allowed'); END
    """,
]
# Checked before the insert, while the row REPLACE would delete still exists. Every unique
# key of audit_events must be named here.
SQLITE_NO_REPLACE = """
    CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
    WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id OR seq = NEW.seq)
    BEGIN
        SELECT RAISE(ABORT, 'audit_events is append-only: an event may not be replaced');
    END
"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("audit_events", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(length=64), nullable=True))
    if sqlite:
        # The table is rebuilt below to make the columns NOT NULL, which drops its triggers.
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    _chain_existing_events()
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_audit_events_seq"), ["seq"])
    if sqlite:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
        op.execute(SQLITE_NO_REPLACE)
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def _chain_existing_events() -> None:
    """Hash every column the table has now (as `hashed_fields` does), read with the types
    the application reads them with, so the hashes are the ones `chatops audit verify`
    recomputes, whatever columns other migrations added before this one."""
    connection = op.get_bind()
    audit = sa.Table(
        "audit_events",
        sa.MetaData(),
        sa.Column("at", UTCDateTime()),
        sa.Column("details", sa.JSON()),
        autoload_with=connection,
    )
    hashed = [column for column in audit.c if column.name not in UNHASHED | {"seq"}]
    seq, prev_hash, last_id = 0, GENESIS_HASH, None
    while True:
        query = sa.select(audit.c.id, *hashed).order_by(audit.c.id).limit(BATCH)
        if last_id is not None:
            query = query.where(audit.c.id > last_id)
        rows = connection.execute(query).all()
        if not rows:
            return
        updates = []
        for row in rows:
            seq += 1
            fields = {"seq": seq, **{column.name: row._mapping[column] for column in hashed}}
            digest = chain_hash(fields, prev_hash)
            updates.append({"row_id": row.id, "seq": seq, "prev_hash": prev_hash, "hash": digest})
            prev_hash, last_id = digest, row.id
        connection.execute(
            audit.update()
            .where(audit.c.id == sa.bindparam("row_id"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            ),
            updates,
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER audit_events_no_replace")
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(batch.f("uq_audit_events_seq"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    if sqlite:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
