"""Engine, transactions and schema version checks for SQLite and PostgreSQL.

SQLite write transactions start with `BEGIN IMMEDIATE`, so two writers queue on the
database lock instead of failing half-way; PostgreSQL transactions lock the rows they
change with `SELECT ... FOR UPDATE`, which SQLite ignores.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).with_name("migrations")
# asyncpg waits 60 s for a server that drops packets; a command that cannot reach its
# database should say so sooner, and a healthy server answers in milliseconds.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10.0


class SchemaOutOfDate(RuntimeError):
    """The database is behind the code; the message names the command that fixes it."""


class DatabaseUnreachable(RuntimeError):
    """The database could not be connected to (refused, unknown host, no such database or
    role, a file that cannot be opened); the message is the driver's reason, in one line."""


# SQLSTATE classes of a failed connection: connection exception, invalid authorization,
# invalid catalog (no such database), insufficient resources, operator intervention.
_CONNECTION_STATES = ("08", "28", "3D", "53", "57P")


@contextmanager
def _connecting() -> Iterator[None]:
    """Turn a failure to reach the database into `DatabaseUnreachable`; other errors (a bad
    query, a constraint) are bugs or data problems and pass through unchanged."""
    try:
        yield
    except (ConnectionError, socket.gaierror, TimeoutError) as error:
        raise DatabaseUnreachable(str(error) or type(error).__name__) from error
    except DBAPIError as error:
        state = str(getattr(error.orig, "sqlstate", "") or "")
        if not isinstance(error, OperationalError) and not state.startswith(_CONNECTION_STATES):
            raise
        reason = str(error.orig or error).strip().splitlines()
        raise DatabaseUnreachable(reason[0] if reason else type(error).__name__) from error


class Database:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        with _connecting():
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

    async def current_revision(self) -> str | None:
        """The schema's revision; the first query of every command, so it is where an
        unreachable database is reported (`DatabaseUnreachable`)."""
        with _connecting():
            async with self.engine.connect() as connection:
                return await connection.run_sync(_current_revision)

    async def upgrade(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade)

    async def is_fresh(self) -> bool:
        """True when the database has no tables of ours and no migration record."""
        async with self.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        return not names

    async def ensure_schema(self, *, allow_fresh_sqlite_upgrade: bool) -> None:
        """Refuse to run on an out-of-date schema, except to create a fresh SQLite file."""
        current = await self.current_revision()
        head = head_revision()
        if current == head:
            return
        if allow_fresh_sqlite_upgrade and self.is_sqlite and await self.is_fresh():
            await self.upgrade()
            return
        shown = current or "empty"
        raise SchemaOutOfDate(
            f"The database schema is out of date (database: {shown}, code: {head}). "
            "Run `chatops db upgrade` first."
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still survives an application crash; only a power cut can
        # lose the last commits, and production runs on PostgreSQL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def missing_sqlite_file(url: str) -> str | None:
    """The SQLite file `url` names when it does not exist. Connecting would create it, and a
    check (doctor, `chatops check`) must change nothing, nor leave an empty file where the
    admin meant another."""
    parsed = make_url(url)
    name = parsed.database or ""
    if (
        parsed.get_backend_name() != "sqlite"
        or name in ("", ":memory:")
        or name.startswith("file:")
    ):
        return None
    return None if Path(name).exists() else name
