"""Which chat events were already handled, shared by every replica through the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.storage.tables import ChatEventRow

KEEP = timedelta(days=1)


class EventLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, platform: str, event_id: str, *, now: datetime) -> bool:
        """Record the event; False if it had been recorded before (a retry or a duplicate)."""
        seen = await self.session.scalar(
            select(ChatEventRow.id).where(
                ChatEventRow.platform == platform, ChatEventRow.event_id == event_id
            )
        )
        if seen is not None:
            return False
        self.session.add(ChatEventRow(platform=platform, event_id=event_id, received_at=now))
        await self.session.flush()
        return True

    async def forget_before(self, moment: datetime) -> None:
        """Platforms stop retrying within minutes; a day of memory is plenty."""
        await self.session.execute(delete(ChatEventRow).where(ChatEventRow.received_at < moment))
