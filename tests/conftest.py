"""Shared fixtures: every storage test runs on SQLite and on a real PostgreSQL server.

PostgreSQL: a throw-away database is created once per run and migrated; each test
starts from empty tables. Without a server the PostgreSQL variants skip with the reason,
except under CI (`CI=true`), where a missing server fails the run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from chatops.storage.database import Database
from chatops.storage.tables import Base

# Property tests run beside database tests on two shared cores: timing is not what they test.
settings.register_profile("chatops", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("chatops")

POSTGRES_ADMIN_DSN = os.environ.get(
    "CHATOPS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Created by migration 0002 for slack_sdk's installation and OAuth state stores.
SLACK_SDK_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon


def _run_apart(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run set-up work on its own loop in a thread: session fixtures may be first
    requested from inside a test's running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _postgres_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available ({reason}); set CHATOPS_TEST_POSTGRES to run these")


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (its SQLAlchemy URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        _run_apart(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        _postgres_unavailable(f"{type(error).__name__}: {error}")
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test run, dropped at the end."""
    with scratch_postgres("chatops_test") as url:
        _run_apart(_migrate(url))
        yield url


async def _migrate(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _run_apart(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """An empty, migrated database on the parametrized backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "chatops.db"
        shutil.copy(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    url: str = request.getfixturevalue("postgres_url")
    db = Database(url)
    names = [t.name for t in Base.metadata.sorted_tables] + list(SLACK_SDK_TABLES)
    tables = ", ".join(f'"{name}"' for name in names)
    async with db.engine.begin() as connection:
        # The audit log refuses TRUNCATE; tests reset it as the superuser, triggers off.
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await db.dispose()
    yield url


@pytest.fixture
async def converse(database_url: str) -> AsyncIterator[object]:
    """Start console conversations on the test database; closed after the test."""
    from tests.harness import Conversation

    started: list[Conversation] = []

    async def start(**kwargs: object) -> Conversation:
        kwargs.setdefault("now", START)
        conversation = await Conversation.start(database_url, **kwargs)  # type: ignore[arg-type]
        started.append(conversation)
        return conversation

    yield start
    for conversation in started:
        await conversation.close()


@pytest.fixture
async def fake_slack() -> AsyncIterator[object]:
    from tests.fakes.slack import FakeSlack

    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack(fake_slack: object, database_url: str) -> AsyncIterator[object]:
    """The web app with Slack mounted, on the test database, against the fake Slack."""
    from tests.slack_harness import SlackDriver

    driver = await SlackDriver.start(fake_slack, database_url)  # type: ignore[arg-type]
    yield driver
    await driver.close()
