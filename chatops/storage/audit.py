"""The audit log: appended to in the same transaction as the change it records.

The log is a hash chain, so a changed, removed or inserted event shows. Event number `seq`
(1, 2, 3, ... without gaps) carries `prev_hash`, the hash of event `seq - 1` (for event 1 the
fixed `GENESIS_HASH`), and `hash`, the SHA-256 of the canonical JSON of every recorded field
together with `prev_hash` (see `chain_hash`). The database id is not hashed: it is assigned
after the hash is computed, and `seq` is the event's place in the chain.

Appending reads the chain's head and writes the next event under one lock, so two
transactions appending at once queue instead of forking the chain: SQLite write transactions
already run one at a time (`BEGIN IMMEDIATE`, see `database.py`); on PostgreSQL an advisory
lock held until the transaction ends does the same. The unique `seq` is the backstop: a fork
fails to insert instead of being stored.

Each event names the workspace it belongs to, so `/social audit` shows a workspace only
its own events; the export stays the agency-wide record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import AuditEvent
from chatops.storage.tables import AuditEventRow

GENESIS_HASH = "0" * 64
# The key of the PostgreSQL advisory lock that serializes appends ("chatops" and a 1).
CHAIN_LOCK = 0x636861746F707301
# Not hashed: the id is assigned by the database after the hash; the links are the chain.
UNHASHED = frozenset({"id", "prev_hash", "hash"})
# The fields every event has been hashed with since the chain began (migration 0009). A
# column added later joins the hash by itself (`hashed_fields` takes every column), but only
# when it holds a value: rows from before it keep it empty, so their hashes, and any head
# hash kept elsewhere, stay valid.
FIRST_HASHED = frozenset(
    {"seq", "at", "actor", "platform", "channel", "action", "draft_id", "details", "workspace"}
)
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_AUDIT = AuditEventRow.__table__
_HEAD = select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1)
HASHED = tuple(
    attribute.key
    for attribute in AuditEventRow.__mapper__.column_attrs
    if attribute.key not in UNHASHED
)


def chain_hash(fields: Mapping[str, object], prev_hash: str) -> str:
    """SHA-256 (hex) of one event: its fields and the previous event's hash, as canonical
    JSON: keys sorted, no spaces, UTF-8, times as ISO 8601 in UTC. For what is recorded (ASCII
    keys; strings, integers, booleans, null, and lists and objects of them) these are the
    bytes of RFC 8785 (JCS), so any JCS library can check an export."""
    document: dict[str, object] = {"prev_hash": prev_hash}
    for name, value in fields.items():
        if name in FIRST_HASHED or value not in (None, ""):
            document[name] = _utc_iso(value) if isinstance(value, datetime) else value
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _utc_iso(moment: datetime) -> str:
    """The database keeps UTC; a naive time read past the column type is UTC too."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()


def hashed_fields(row: AuditEventRow) -> dict[str, object]:
    """Every recorded field of an event that its hash covers."""
    return {name: getattr(row, name) for name in HASHED}


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose place in the chain does not check out, and why, in plain words."""

    seq: int
    event_id: int
    action: str
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the whole chain. `head_hash` is the hash of the last event that
    checked out (the genesis value when there is none): keep it elsewhere to check later."""

    events: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None = None
    anchor: str | None = None
    anchor_missing: bool = False

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.anchor_missing


class AuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        *,
        at: datetime,
        actor: str,
        platform: str,
        action: str,
        draft_id: int | None = None,
        channel: str = "",
        workspace: str = "",
        **details: Any,
    ) -> None:
        """Append one event to the chain. On PostgreSQL this holds the chain's lock until the
        transaction ends: record the event late in a transaction that does slow work."""
        head_seq, head_hash = await self._head_for_append()
        row = AuditEventRow(
            at=at,
            actor=actor,
            platform=platform,
            channel=channel,
            action=action,
            draft_id=draft_id,
            details=details,
            seq=head_seq + 1,
            prev_hash=head_hash,
            workspace=workspace,
        )
        row.hash = chain_hash(hashed_fields(row), head_hash)
        self.session.add(row)
        await self.session.flush()

    async def _head_for_append(self) -> tuple[int, str]:
        # Core statements on the session's connection: the ORM's result handling would cost
        # more than the statements themselves on this path, which every decision takes.
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            # Taken before reading the head, so the read sees the last committed append.
            await connection.execute(_LOCK, {"key": CHAIN_LOCK})
        head = (await connection.execute(_HEAD)).first()
        return (0, GENESIS_HASH) if head is None else (head.seq, head.hash)

    async def verify(self, *, anchor: str | None = None) -> ChainReport:
        """Check every event in chain order and stop at the first that does not check out.
        With `anchor` (a head hash kept from an earlier check), also require that hash to be
        in the chain: a rewrite of the whole chain would otherwise go unseen."""
        count, expected, prev_hash = 0, 1, GENESIS_HASH
        anchor_seen = anchor is None
        query = select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=500)
        result = await self.session.stream_scalars(query)
        try:
            async for row in result:
                problem = _problem(row, expected, prev_hash)
                if problem is not None:
                    broken = ChainBreak(row.seq, row.id, row.action, problem)
                    return ChainReport(count, expected - 1, prev_hash, broken, anchor)
                count, expected, prev_hash = count + 1, row.seq + 1, row.hash
                anchor_seen = anchor_seen or row.hash == anchor
        finally:
            await result.close()
        return ChainReport(
            count, expected - 1, prev_hash, anchor=anchor, anchor_missing=not anchor_seen
        )

    async def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        draft_id: int | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> list[AuditEvent]:
        return [
            event
            async for event in self.stream(
                since=since,
                until=until,
                draft_id=draft_id,
                newest_first=newest_first,
                limit=limit,
                workspace=workspace,
            )
        ]

    async def stream(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        draft_id: int | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> AsyncIterator[AuditEvent]:
        """Events oldest first (or newest first); `workspace` None means every workspace."""
        query = select(AuditEventRow)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        if until is not None:
            query = query.where(AuditEventRow.at < until)
        if draft_id is not None:
            query = query.where(AuditEventRow.draft_id == draft_id)
        if workspace is not None:
            query = query.where(AuditEventRow.workspace == workspace)
        order = AuditEventRow.seq.desc() if newest_first else AuditEventRow.seq
        query = query.order_by(order)
        if limit is not None:
            query = query.limit(limit)
        for row in await self.session.scalars(query):
            yield AuditEvent(
                id=row.id,
                at=row.at,
                actor=row.actor,
                platform=row.platform,
                channel=row.channel,
                action=row.action,
                draft_id=row.draft_id,
                details=dict(row.details),
                seq=row.seq,
                prev_hash=row.prev_hash,
                hash=row.hash,
                workspace=row.workspace,
            )


def _problem(row: AuditEventRow, expected: int, prev_hash: str) -> str | None:
    """What is wrong with `row` as event number `expected` after one hashed `prev_hash`."""
    if row.seq > expected:
        if row.seq == expected + 1:
            return f"event #{expected} before it is missing"
        return f"events #{expected} to #{row.seq - 1} before it are missing"
    if row.seq < expected:
        return f"it is numbered #{row.seq} where #{expected} belongs"
    if row.prev_hash != prev_hash:
        if expected == 1:
            return "its link to the start of the chain is broken"
        return (
            f"its link to event #{expected - 1} is broken: #{expected - 1} was changed or "
            "replaced after this event was recorded"
        )
    if chain_hash(hashed_fields(row), row.prev_hash) != row.hash:
        return "its content changed after it was recorded"
    return None
