"""Exports of the audit log for records requests: CSV for people, JSON lines for tools.

Each exported event carries its place in the hash chain (`seq`, `prev_hash`, `hash`), so an
export can be checked against the head hash printed by `chatops audit verify`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from typing import TextIO

from chatops.domain.types import AuditEvent
from chatops.storage.audit import ChainReport

COLUMNS = (
    "id",
    "at",
    "actor",
    "platform",
    "channel",
    "action",
    "draft_id",
    "details",
    "seq",
    "prev_hash",
    "hash",
    "workspace",
)


def _record(event: AuditEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "platform": event.platform,
        "workspace": event.workspace,
        "channel": event.channel,
        "action": event.action,
        "draft_id": event.draft_id,
        "details": event.details,
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


async def export(events: AsyncIterator[AuditEvent], out: TextIO, *, fmt: str) -> int:
    """Write every event to `out` in `fmt` (csv or jsonl); return how many were written."""
    count = 0
    if fmt == "jsonl":
        async for event in events:
            out.write(json.dumps(_record(event), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r}; use csv or jsonl")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    async for event in events:
        row = _record(event)
        row["details"] = json.dumps(event.details, ensure_ascii=False, sort_keys=True)
        row["draft_id"] = "" if event.draft_id is None else event.draft_id
        writer.writerow([row[column] for column in COLUMNS])
        count += 1
    return count


def chain_summary(report: ChainReport) -> str:
    """One line for people and scripts: intact with the head hash to keep, or what broke."""
    if report.broken is not None:
        broken = report.broken
        return (
            f"Audit chain BROKEN at event #{broken.seq} (id {broken.event_id}, "
            f"{broken.action}): {broken.problem}."
        )
    if report.anchor_missing:
        return (
            f"Audit chain BROKEN: the head hash {report.anchor} kept from an earlier check is "
            f"not in the chain ({report.events} events): history up to it was rewritten or "
            "removed."
        )
    if not report.events:
        return f"Audit chain intact: no events yet (head {report.head_hash})."
    noun = "event" if report.events == 1 else "events"
    return (
        f"Audit chain intact: {report.events} {noun}; head #{report.head_seq} "
        f"{report.head_hash} (keep it elsewhere to check later)."
    )
