"""Alembic environment: always handed a live connection by `Database.upgrade`."""

from __future__ import annotations

from alembic import context

from chatops.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `chatops db upgrade`")


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """slack_sdk's installation tables are created by migration 0002 but not modelled here."""
    return not (type_ == "table" and name is not None and name.startswith("slack_"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=_ours,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
