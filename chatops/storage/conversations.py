"""Stored conversation references, for platforms that post proactively by reference."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.storage.tables import ConversationRow


class ConversationStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(
        self, platform: str, conversation_id: str, reference: dict[str, Any], *, now: datetime
    ) -> None:
        row = await self.session.scalar(
            select(ConversationRow).where(
                ConversationRow.platform == platform,
                ConversationRow.conversation_id == conversation_id,
            )
        )
        if row is None:
            self.session.add(
                ConversationRow(
                    platform=platform,
                    conversation_id=conversation_id,
                    reference=reference,
                    updated_at=now,
                )
            )
        elif row.reference != reference:
            row.reference = reference
            row.updated_at = now
        await self.session.flush()

    async def reference(self, platform: str, conversation_id: str) -> dict[str, Any] | None:
        row = await self.session.scalar(
            select(ConversationRow.reference).where(
                ConversationRow.platform == platform,
                ConversationRow.conversation_id == conversation_id,
            )
        )
        return dict(row) if row is not None else None
