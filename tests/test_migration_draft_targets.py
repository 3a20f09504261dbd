"""Migration 0015 on a database from before it, on SQLite and PostgreSQL: every draft gets
its account as its one target, in the state its publication was in, and a publication in
flight across the upgrade carries on exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from chatops.domain.accounts import TargetState
from chatops.domain.types import DraftState
from chatops.runtime.clock import ManualClock
from chatops.service import build_service
from chatops.storage.database import Database, _alembic_config
from tests.conftest import START, scratch_postgres
from tests.harness import make_settings

BEFORE = "0014"
DRAFT_COLUMNS = (
    "id, kind, state, account_id, text, author, author_platform, origin_workspace, "
    "origin_channel, revision, required_approvals, published_external_id, published_url, "
    "published_at, error, findings, media, authors, created_at, updated_at"
)
OLD_ROWS = [
    "INSERT INTO accounts (id, network, handle, created_at) VALUES "
    "(1, 'sandbox', 'PortAlderCity', :now)",
    f"INSERT INTO drafts ({DRAFT_COLUMNS}) VALUES "
    "(1, 'post', 'publishing', 1, 'In flight', 'alice', 'console', '', 'general', 1, 1, "
    "NULL, NULL, NULL, NULL, '[]', '[]', '[]', :now, :now), "
    "(2, 'post', 'published', 1, 'Done', 'alice', 'console', '', 'general', 2, 1, "
    "'sbp-7', 'https://sandbox.invalid/PortAlderCity/status/sbp-7', :now, NULL, "
    "'[]', '[]', '[]', :now, :now), "
    "(3, 'post', 'failed', 1, 'Refused', 'alice', 'console', '', 'general', 1, 1, "
    "NULL, NULL, NULL, 'account suspended', '[]', '[]', '[]', :now, :now), "
    "(4, 'post', 'pending', 1, 'Waiting', 'alice', 'console', '', 'general', 1, 1, "
    "NULL, NULL, NULL, NULL, '[]', '[]', '[]', :now, :now)",
    # Draft 1's first attempt reached the network and the worker died before recording it.
    "INSERT INTO sandbox_posts (id, account, text, in_reply_to, media, idempotency_key, "
    "created_at) VALUES (1, 'PortAlderCity', 'In flight', NULL, '[]', 'draft-1-rev-1', :now)",
    "INSERT INTO outbox (id, draft_id, revision, status, due_at, attempts, claimed_by, "
    "lease_until, created_at, updated_at) VALUES "
    "(1, 1, 1, 'claimed', :now, 1, 'old-worker', :now, :now, :now), "
    "(2, 2, 2, 'done', :now, 1, 'old-worker', NULL, :now, :now)",
]


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with scratch_postgres("chatops_migration") as url:
        yield url


def _upgrade_to(connection: Connection, revision: str) -> None:
    command.upgrade(_alembic_config(connection), revision)


def _downgrade_to(connection: Connection, revision: str) -> None:
    command.downgrade(_alembic_config(connection), revision)


async def test_old_drafts_get_one_target_and_an_interrupted_publication_is_not_doubled(
    empty_url: str,
) -> None:
    db = Database(empty_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade_to, BEFORE)
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"now": START})
        await db.upgrade()
    finally:
        await db.dispose()
    clock = ManualClock(START + timedelta(hours=1))  # the old worker's lease ran out
    service = build_service(make_settings(empty_url), clock=clock, feed=[])
    try:
        workflow = service.core.workflow
        published = await workflow.get(2)
        assert [(t.key, t.state) for t in published.targets] == [
            ("sandbox:@PortAlderCity", TargetState.PUBLISHED)
        ]
        assert published.targets[0].published_url == published.published_url
        failed = await workflow.get(3)
        assert failed.targets[0].state is TargetState.FAILED
        assert failed.targets[0].error == "account suspended"
        assert (await workflow.get(4)).targets[0].state is TargetState.WAITING
        assert await service.publisher.run_once() == 1
        resumed = await workflow.get(1)
        assert resumed.state is DraftState.PUBLISHED
        assert resumed.published_id == "sbp-1"  # the post the first attempt made
        assert len(await service.social.posts()) == 1
    finally:
        await service.close()


async def test_the_migration_goes_back_down_keeping_each_drafts_first_target(
    empty_url: str,
) -> None:
    db = Database(empty_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade_to, BEFORE)
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"now": START})
            await connection.run_sync(_upgrade_to, "0015")
            await connection.run_sync(_downgrade_to, BEFORE)
            outbox = (await connection.execute(text("SELECT draft_id FROM outbox"))).all()
        assert sorted(row[0] for row in outbox) == [1, 2]
    finally:
        await db.dispose()
