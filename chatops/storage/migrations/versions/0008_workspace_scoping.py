"""Workspaces are not tenants of each other: role grants and audit events name theirs.

`roles.workspace` makes a grant hold only in the workspace it was made in (unique on
platform, workspace, user, role); `audit_events.workspace` lets `/social audit` show a
workspace only its own events. Drafts already record `origin_workspace`.

Existing rows: an audit event about a draft takes its draft's workspace. Other events and
grants take their platform's workspace when the database knows exactly one for that
platform (a single-workspace install, where everything so far happened), else "". The
audit log is append-only, so its triggers are lifted for that one backfill (the
migration runs as the table's owner) and put back as 0006 made them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SQLITE_NO_UPDATE = """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE is not allowed'); END
"""

# Where each platform's workspaces show up: (table, platform column, workspace column).
KNOWN_WORKSPACES = (
    ("cards", "platform", "workspace_id"),
    ("subscriptions", "platform", "workspace_id"),
    ("alerts", "platform", "workspace_id"),
    ("drafts", "author_platform", "origin_workspace"),
)


def upgrade() -> None:
    with op.batch_alter_table("roles") as batch:
        batch.add_column(
            sa.Column("workspace", sa.String(length=64), nullable=False, server_default="")
        )
        batch.drop_constraint("uq_roles_platform_user_id_role", type_="unique")
        batch.create_unique_constraint(
            "uq_roles_platform_workspace_user_id_role",
            ["platform", "workspace", "user_id", "role"],
        )
    # Not in batch mode: on SQLite that would rebuild the table without its triggers.
    op.add_column(
        "audit_events",
        sa.Column("workspace", sa.String(length=64), nullable=False, server_default=""),
    )
    op.create_index("ix_audit_events_workspace", "audit_events", ["workspace"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    only_workspace = _only_workspace_per_platform(bind)
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    op.execute(
        """
        UPDATE audit_events SET workspace = (
            SELECT drafts.origin_workspace FROM drafts WHERE drafts.id = audit_events.draft_id
        )
        WHERE draft_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM drafts WHERE drafts.id = audit_events.draft_id)
        """
    )
    for platform, workspace in only_workspace.items():
        values = {"platform": platform, "workspace": workspace}
        bind.execute(
            sa.text(
                "UPDATE audit_events SET workspace = :workspace "
                "WHERE platform = :platform AND workspace = '' AND draft_id IS NULL"
            ),
            values,
        )
        bind.execute(
            sa.text(
                "UPDATE roles SET workspace = :workspace "
                "WHERE platform = :platform AND workspace = ''"
            ),
            values,
        )
    if postgres:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        op.execute(SQLITE_NO_UPDATE)


def _only_workspace_per_platform(bind: sa.Connection) -> dict[str, str]:
    seen: dict[str, set[str]] = {}
    for table, platform, workspace in KNOWN_WORKSPACES:
        rows = bind.execute(
            sa.text(f"SELECT DISTINCT {platform}, {workspace} FROM {table} WHERE {workspace} <> ''")
        )
        for name, value in rows:
            seen.setdefault(str(name), set()).add(str(value))
    return {name: next(iter(values)) for name, values in seen.items() if len(values) == 1}


def downgrade() -> None:
    """Grants made in several workspaces fold into one (the oldest) per platform and user."""
    op.drop_index("ix_audit_events_workspace", table_name="audit_events")
    # A plain DROP COLUMN (SQLite 3.35+) keeps the append-only triggers in place.
    op.execute("ALTER TABLE audit_events DROP COLUMN workspace")
    op.execute(
        "DELETE FROM roles WHERE id NOT IN "
        "(SELECT MIN(id) FROM roles GROUP BY platform, user_id, role)"
    )
    with op.batch_alter_table("roles") as batch:
        batch.drop_constraint("uq_roles_platform_workspace_user_id_role", type_="unique")
        batch.drop_column("workspace")
        batch.create_unique_constraint(
            "uq_roles_platform_user_id_role", ["platform", "user_id", "role"]
        )
