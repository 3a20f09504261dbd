"""Exports of the audit log for records requests: CSV for people, JSON lines for tools."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from typing import TextIO

from chatops.domain.types import AuditEvent

COLUMNS = ("id", "at", "actor", "platform", "channel", "action", "draft_id", "details", "workspace")


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
