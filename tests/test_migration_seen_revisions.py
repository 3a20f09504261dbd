"""Migration 0010 on a database with drafts and cards from before it, on SQLite and PostgreSQL:
each card is taken to show its draft's revision then, and each draft's author is its one
author. The bot then treats those cards like any other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from chatops.domain.types import Actor, ChannelRef, MessageRef
from chatops.storage.database import Database, _alembic_config
from chatops.storage.drafts import DraftStore
from tests.conftest import START, scratch_postgres

BEFORE = "0007"


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with scratch_postgres("chatops_migration") as url:
        yield url


def _to(revision: str) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), revision)

    return run


OLD_ROWS = [
    "INSERT INTO accounts (id, network, handle, created_at) "
    "VALUES (1, 'sandbox', 'PortAlderCity', :now)",
    "INSERT INTO drafts (id, kind, state, account_id, text, author, author_platform, "
    "origin_workspace, origin_channel, revision, required_approvals, findings, media, "
    "created_at, updated_at) VALUES (7, 'post', 'pending', 1, 'Edited twice', 'U0ALICE01', "
    "'slack', 'T1', 'C1', 3, 1, '[]', '[]', :now, :now)",
    "INSERT INTO cards (id, draft_id, platform, workspace_id, channel_id, message_id, "
    "created_at) VALUES (1, 7, 'slack', 'T1', 'C1', '1.0001', :now)",
]


async def test_old_cards_show_their_drafts_revision_and_authors_are_the_author(
    empty_url: str,
) -> None:
    db = Database(empty_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_to(BEFORE))
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"now": START})
        await db.upgrade()
        ref = MessageRef(ChannelRef("slack", "C1", "T1"), "1.0001")
        async with db.transaction() as session:
            store = DraftStore(session)
            assert await store.shown_on(ref) == (7, 3)
            draft = await store.get(7)
        assert [(a.platform, a.user_id, a.name) for a in draft.authors] == [
            ("slack", "U0ALICE01", "U0ALICE01")
        ]
        assert draft.written_by(Actor("slack", "U0ALICE01"))
        assert not draft.written_by(Actor("slack", "U0BOB0001"))
    finally:
        await db.dispose()
