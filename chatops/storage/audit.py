"""The audit log: appended to in the same transaction as the change it records.

Each event names the workspace it belongs to, so `/social audit` shows a workspace only
its own events; the export stays the agency-wide record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import AuditEvent
from chatops.storage.tables import AuditEventRow


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
        self.session.add(
            AuditEventRow(
                at=at,
                actor=actor,
                platform=platform,
                channel=channel,
                action=action,
                draft_id=draft_id,
                details=details,
                workspace=workspace,
            )
        )
        await self.session.flush()

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
        order = AuditEventRow.id.desc() if newest_first else AuditEventRow.id
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
                workspace=row.workspace,
            )
