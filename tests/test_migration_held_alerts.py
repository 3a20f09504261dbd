"""Migration 0013 on a database with alerts from before it, on SQLite and PostgreSQL: an alert
that went out at once counts for the cap from when it was created; one kept for the digest
(by a digest-only rule or, before, by the cap) stays in the next digest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from chatops.domain.types import ChannelRef
from chatops.storage.database import Database, _alembic_config
from chatops.storage.held import HeldStore
from chatops.storage.reports import ReportStore
from tests.conftest import START, scratch_postgres

BEFORE = "0012"


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with scratch_postgres("chatops_migration") as url:
        yield url


def _upgrade_to(connection: Connection, revision: str) -> None:
    command.upgrade(_alembic_config(connection), revision)


CHANNEL = ChannelRef("slack", "C1", "T1")
OLD_ROWS = [
    "INSERT INTO mentions (id, network, external_id, url, author_handle, author_name, "
    "author_followers, author_verified, text, language, kind, metrics, score, sentiment, "
    "is_question, reasons, created_at, received_at) VALUES "
    "(1, 'x', '1', 'https://x.com/a/status/1', 'a', '', 0, false, 'flood', 'en', 'post', "
    "'{}', 30, 'neutral', false, '[]', :now, :now), "
    "(2, 'x', '2', 'https://x.com/b/status/2', 'b', '', 0, false, 'outage', 'en', 'post', "
    "'{}', 20, 'neutral', false, '[]', :now, :now)",
    "INSERT INTO subscriptions (id, platform, workspace_id, channel_id, rule, keywords, "
    "created_by, active, created_at) VALUES (1, 'slack', 'T1', 'C1', 'flood OR outage', "
    "'[]', 'U1', true, :now)",
    "INSERT INTO alerts (id, subscription_id, mention_id, platform, workspace_id, channel_id, "
    "matched, state, root_key, repeats, in_digest, is_question, delivery, created_at) VALUES "
    "(1, 1, 1, 'slack', 'T1', 'C1', '[]', 'open', 'x:1', 0, false, false, 'sent', :now), "
    "(2, 1, 2, 'slack', 'T1', 'C1', '[]', 'open', 'x:2', 0, true, false, 'digest', :now)",
]


async def test_old_alerts_count_for_the_cap_and_digest_items_stay_in_the_digest(
    empty_url: str,
) -> None:
    db = Database(empty_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade_to, BEFORE)
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"now": START})
        await db.upgrade()
        async with db.transaction() as session:
            held = HeldStore(session)
            assert await held.queued_since(CHANNEL, START - timedelta(seconds=30)) == 1
            assert await held.holding(["slack"]) == {}
            digest = await ReportStore(session).awaiting_digest(CHANNEL)
        assert [mention.text for _, mention in digest] == ["outage"]
    finally:
        await db.dispose()
