"""The record of decisions: complete, and append-only in the database itself."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from chatops.records.exports import export
from chatops.storage.audit import GENESIS_HASH, AuditLog, ChainReport, chain_hash, hashed_fields
from chatops.storage.database import Database, _alembic_config
from chatops.storage.tables import AuditEventRow, UTCDateTime
from tests.conftest import START, scratch_postgres
from tests.harness import unwrapped


async def test_every_event_says_who_what_when_where_and_the_text_then(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(
        "/post Road closure on Main St.", "/as bob", "/social edit 1 Road closed on Main St."
    )
    await chat.say("/as carol", "/social approve 1")  # bob changed it, so he cannot approve it
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events(draft_id=1)
    by_action = {event.action: event for event in events}
    assert by_action["created"].details["text"] == "Road closure on Main St."
    assert by_action["edited"].details["old_text"] == "Road closure on Main St."
    assert by_action["approved"].details["text"] == "Road closed on Main St."
    for action in ("created", "edited", "approval", "approved"):
        event = by_action[action]
        assert event.channel == "console" and event.platform == "console" and event.at
    assert by_action["created"].actor == "alice" and by_action["approval"].actor == "carol"
    assert by_action["approval"].details["revision"] == by_action["edited"].details["revision"]
    assert by_action["published"].details["url"].startswith("https://sandbox.invalid/")
    assert by_action["published"].details["text"] == "Road closed on Main St."


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"]
)
async def test_the_audit_log_refuses_updates_and_deletes(converse, statement: str) -> None:
    chat = await converse(user="alice")
    await chat.say("/post Something to record.")
    with pytest.raises(DBAPIError, match="append-only"):
        async with chat.service.db.transaction() as session:
            await session.execute(text(statement))
    async with chat.service.db.transaction() as session:
        [event] = await AuditLog(session).events()
    assert event.actor == "alice"


async def test_postgres_refuses_truncate_too(postgres_url: str) -> None:
    from chatops.storage.database import Database

    db = Database(postgres_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text("TRUNCATE audit_events"))
    finally:
        await db.dispose()


async def test_compliance_findings_on_the_card_and_an_audited_override(converse) -> None:
    chat = await converse(user="alice", admins=("admin",), link_allowlist=("portalder.gov",))
    shown = await chat.say("/post Questions? Email jane.doe@example.org or call 503-555-0142.")
    assert "BLOCKING [personal_email]: " in shown and "j***@example.org" in shown
    assert "jane.doe@example.org" not in shown.split("│ Findings:")[1]
    assert "cannot be approved yet" in await chat.say("/as admin", "/social approve 1")

    refused = await chat.say("/as bob", '/social terms add "shelter in place" --reason "Only OEM"')
    assert "needs the admin role" in refused
    await chat.say(
        "/as admin", '/social terms add "shelter in place" --reason "Only OEM may say it"'
    )
    blocked = await chat.say("/as alice", "/post Please shelter in place until 6pm.")
    assert "Only OEM may say it" in blocked and "BLOCKING" in blocked

    warned = await chat.say("/post Details at https://county.example.com/closures #PORTALDERFLOOD")
    assert "warning [unapproved_link]: " in warned
    not_admin = await chat.say("/social override 3 unapproved_link Partner site")
    assert "needs the admin role" in not_admin
    accepted = await chat.say("/as admin", "/social override 3 unapproved_link County partner site")
    assert "accepted by admin: County partner site" in unwrapped(accepted)
    assert "Blocking findings cannot be overridden" in await chat.say(
        "/social override 1 personal_email ok"
    )
    async with chat.service.db.transaction() as session:
        [override] = [
            e for e in await AuditLog(session).events() if e.action == "warning_overridden"
        ]
    assert override.details["reason"] == "County partner site" and override.actor == "admin"


# The chain: each event carries a hash over its content and the previous event's hash.

SCENARIO = (
    "/post Road closure on Main St.",
    "/as bob",
    "/social edit 1 Road closed on Main St.",
    "/as carol",
    "/social approve 1",
)


async def _history(converse) -> Any:
    """A real history: created, edited, approval, approved, publishing, published."""
    chat = await converse(user="alice")
    await chat.say(*SCENARIO)
    return chat


async def _verify(db: Database, anchor: str | None = None) -> ChainReport:
    async with db.transaction() as session:
        return await AuditLog(session).verify(anchor=anchor)


async def _event_ids(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        return {event.action: event.id for event in await AuditLog(session).events()}


async def _as_superuser(db: Database, *statements: str) -> None:
    """Rewrite history past the append-only triggers, as someone owning the database could:
    on SQLite by dropping the triggers, on PostgreSQL as the superuser with triggers off."""
    async with db.transaction() as session:
        if db.is_sqlite:
            for trigger in ("audit_events_no_update", "audit_events_no_delete"):
                await session.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        else:
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await session.execute(text(statement))


async def test_an_untouched_history_verifies_and_names_its_head(converse) -> None:
    chat = await _history(converse)
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events()
    report = await _verify(chat.service.db)
    assert report.broken is None and report.intact
    assert report.events == len(events) >= 6
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))
    assert report.head_seq == events[-1].seq and report.head_hash == events[-1].hash
    assert len({event.hash for event in events}) == len(events)


async def test_changed_details_are_found_and_the_event_named(converse) -> None:
    chat = await _history(converse)
    db = chat.service.db
    approved = (await _event_ids(db))["approved"]
    forged = json.dumps({"text": "Main St. is open."})
    await _as_superuser(db, f"UPDATE audit_events SET details = '{forged}' WHERE id = {approved}")
    report = await _verify(db)
    assert not report.intact and report.broken is not None
    assert (report.broken.event_id, report.broken.action) == (approved, "approved")
    assert "content" in report.broken.problem and "changed" in report.broken.problem


async def test_a_rehashed_forgery_breaks_the_next_link(converse) -> None:
    """Recomputing the forged event's own hash does not help: the next event names the old one."""
    chat = await _history(converse)
    db = chat.service.db
    async with db.transaction() as session:
        events = await AuditLog(session).events()
    target = next(event for event in events if event.action == "approval")
    fields = hashed_fields(await _row(db, target.id))
    fields["actor"] = "mallory"
    rehashed = chain_hash(fields, target.prev_hash)
    await _as_superuser(
        db,
        f"UPDATE audit_events SET actor = 'mallory', hash = '{rehashed}' WHERE id = {target.id}",
    )
    report = await _verify(db)
    assert report.broken is not None
    after = events[events.index(target) + 1]
    assert (report.broken.event_id, report.broken.action) == (after.id, after.action)
    assert "link" in report.broken.problem and f"#{target.seq}" in report.broken.problem


async def test_an_event_deleted_from_the_middle_is_missed(converse) -> None:
    chat = await _history(converse)
    db = chat.service.db
    async with db.transaction() as session:
        events = await AuditLog(session).events()
    gone, after = events[2], events[3]
    await _as_superuser(db, f"DELETE FROM audit_events WHERE id = {gone.id}")
    report = await _verify(db)
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.action) == (after.id, after.action)
    assert "missing" in report.broken.problem and f"#{gone.seq}" in report.broken.problem


async def test_a_rewritten_chain_passes_alone_but_not_against_an_anchored_head(converse) -> None:
    """What the chain does not prove: whoever can rewrite every row can rehash them all.
    A head hash kept elsewhere (printed by `chatops audit verify`) catches that."""
    chat = await _history(converse)
    db = chat.service.db
    anchor = (await _verify(db)).head_hash
    async with db.transaction() as session:
        events = await AuditLog(session).events()
    rows = [await _row(db, event.id) for event in events]
    statements, prev = [], GENESIS_HASH
    for row in rows:
        fields = hashed_fields(row)
        if row.action == "created":
            fields["actor"] = "mallory"
        digest = chain_hash(fields, prev)
        statements.append(
            f"UPDATE audit_events SET actor = '{fields['actor']}', prev_hash = '{prev}', "
            f"hash = '{digest}' WHERE id = {row.id}"
        )
        prev = digest
    await _as_superuser(db, *statements)
    assert (await _verify(db)).intact
    against_anchor = await _verify(db, anchor=anchor)
    assert not against_anchor.intact and against_anchor.anchor_missing
    assert (await _verify(db, anchor=prev)).intact


async def _row(db: Database, event_id: int) -> AuditEventRow:
    async with db.transaction() as session:
        row = await session.get(AuditEventRow, event_id)
        assert row is not None
        return row


FORGE = [
    "CREATE TEMP TABLE forged AS SELECT * FROM audit_events WHERE id = 1",
    "UPDATE forged SET actor = 'mallory'",
]
FORGE_NEW_ID = [*FORGE, "UPDATE forged SET id = 999"]
SQLITE_REPLACES = {
    "insert or replace, same id": [
        *FORGE,
        "INSERT OR REPLACE INTO audit_events SELECT * FROM forged",
    ],
    "replace into, same id": [*FORGE, "REPLACE INTO audit_events SELECT * FROM forged"],
    "insert or replace, new id, same chain place": [
        *FORGE_NEW_ID,
        "INSERT OR REPLACE INTO audit_events SELECT * FROM forged",
    ],
    "upsert": [
        *FORGE,
        "INSERT INTO audit_events SELECT * FROM forged WHERE true "
        "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor",
    ],
}
POSTGRES_UPSERTS = {
    "upsert on id": [
        *FORGE,
        "INSERT INTO audit_events SELECT * FROM forged "
        "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor",
    ],
    "upsert on chain place": [
        *FORGE_NEW_ID,
        "INSERT INTO audit_events SELECT * FROM forged "
        "ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor",
    ],
}


@pytest.mark.parametrize(
    ("backend", "statements"),
    [
        *(
            pytest.param("sqlite", sql, id=f"sqlite-{case}")
            for case, sql in SQLITE_REPLACES.items()
        ),
        *(
            pytest.param("postgres", sql, id=f"postgres-{case}")
            for case, sql in POSTGRES_UPSERTS.items()
        ),
    ],
)
async def test_replace_and_upsert_cannot_overwrite_an_event(
    converse, statements: list[str]
) -> None:
    """SQLite's REPLACE deletes the old row without firing the DELETE trigger; the insert
    trigger of migration 0009 refuses it. An upsert is an UPDATE, which 0006 refuses."""
    chat = await converse(user="alice")
    await chat.say("/post Something to record.", "/post Something else.")
    with pytest.raises(DBAPIError, match="append-only"):
        async with chat.service.db.transaction() as session:
            for statement in statements:
                await session.execute(text(statement))
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events()
    assert [event.actor for event in events] == ["alice", "alice"]
    assert (await _verify(chat.service.db)).intact


async def test_concurrent_appends_keep_one_chain(database_url: str) -> None:
    """Two (here: twelve) transactions appending at once: each waits for the chain's head,
    so none forks it and none fails."""
    db = Database(database_url)
    start = asyncio.Event()

    async def append(n: int) -> None:
        await start.wait()
        async with db.transaction() as session:
            await AuditLog(session).record(at=START, actor=f"user{n}", platform="test", action="x")
            await asyncio.sleep(0.02)  # hold the transaction open while the others try

    try:
        tasks = [asyncio.create_task(append(n)) for n in range(12)]
        await asyncio.sleep(0)
        start.set()
        await asyncio.gather(*tasks)
        report = await _verify(db)
        async with db.transaction() as session:
            events = await AuditLog(session).events()
    finally:
        await db.dispose()
    assert report.intact and report.events == 12
    assert sorted(event.actor for event in events) == sorted(f"user{n}" for n in range(12))
    assert [event.seq for event in events] == list(range(1, 13))


async def test_the_export_carries_the_chain(converse) -> None:
    chat = await _history(converse)
    async with chat.service.db.transaction() as session:
        out = io.StringIO()
        count = await export(AuditLog(session).stream(), out, fmt="jsonl")
        table = io.StringIO()
        await export(AuditLog(session).stream(), table, fmt="csv")
        head = await AuditLog(session).verify()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == count == head.events
    assert lines[0]["prev_hash"] == GENESIS_HASH
    assert all(b["prev_hash"] == a["hash"] and b["seq"] == a["seq"] + 1 for a, b in pairwise(lines))
    assert lines[-1]["hash"] == head.head_hash
    for line in lines:  # checkable without chatops: canonical JSON of all but id and hash
        chained = {key: value for key, value in line.items() if key not in ("id", "hash")}
        canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == line["hash"]
    rows = list(csv.DictReader(io.StringIO(table.getvalue())))
    assert [(r["seq"], r["prev_hash"], r["hash"]) for r in rows] == [
        (str(e["seq"]), e["prev_hash"], e["hash"]) for e in lines
    ]


AUDIT_AT_0007 = sa.table(
    "audit_events",
    *(sa.column(name) for name in ("id", "actor", "platform", "channel", "action", "draft_id")),
    sa.column("at", UTCDateTime()),
    sa.column("details", sa.JSON()),
)


def _upgrade_to(revision: str) -> Any:
    def run(connection: Any) -> None:
        command.upgrade(_alembic_config(connection), revision)

    return run


def _downgrade_to(revision: str) -> Any:
    def run(connection: Any) -> None:
        command.downgrade(_alembic_config(connection), revision)

    return run


@pytest.fixture
def unmigrated_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with scratch_postgres("chatops_chain") as url:
        yield url


async def test_events_from_before_the_chain_are_chained_by_the_migration(
    unmigrated_url: str,
) -> None:
    db = Database(unmigrated_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade_to("0007"))
        old = [
            (n, START + timedelta(minutes=n), f"user{n}", {"text": f"text {n} é"})
            for n in (1, 2, 5)
        ]
        async with db.transaction() as session:
            await session.execute(
                sa.insert(AUDIT_AT_0007),
                [
                    {"id": id_, "at": at, "actor": actor, "platform": "slack", "channel": "C1"}
                    | {"action": "created", "draft_id": id_, "details": details}
                    for id_, at, actor, details in old
                ],
            )
            if not db.is_sqlite:  # explicit ids leave the sequence behind
                await session.execute(
                    text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 5)")
                )
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade_to("head"))
        report = await _verify(db)
        assert report.intact and report.events == 3
        async with db.transaction() as session:
            await AuditLog(session).record(at=START, actor="dave", platform="slack", action="x")
        async with db.transaction() as session:
            events = await AuditLog(session).events()
        assert [(e.id, e.seq, e.actor) for e in events][:3] == [
            (1, 1, "user1"),
            (2, 2, "user2"),
            (5, 3, "user5"),
        ]
        assert events[3].seq == 4 and events[3].prev_hash == events[2].hash
        assert events[0].details == {"text": "text 1 é"}
        assert (await _verify(db)).intact
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text("UPDATE audit_events SET actor = 'mallory'"))
        async with db.engine.begin() as connection:
            await connection.run_sync(_downgrade_to("0007"))
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text("DELETE FROM audit_events"))
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade_to("head"))
        assert (await _verify(db)).intact and (await _verify(db)).events == 4
    finally:
        await db.dispose()
