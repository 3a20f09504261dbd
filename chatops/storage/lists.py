"""Watch lists, the emergency lexicon, the sensitive terms and the public contacts that
admins curate in chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.drafts.compliance import SensitiveTerm
from chatops.drafts.public_contacts import Contact, ContactKind
from chatops.storage.tables import (
    PublicContactRow,
    SensitiveTermRow,
    UrgentTermRow,
    WatchEntryRow,
)


class ListStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def watch(self) -> dict[str, str]:
        """Handle -> the list it is on."""
        rows = await self.session.execute(select(WatchEntryRow.handle, WatchEntryRow.list_name))
        return {handle: name for handle, name in rows}

    async def add_watch(self, list_name: str, handle: str, *, by: str, now: datetime) -> bool:
        existing = await self.session.scalar(
            select(WatchEntryRow).where(WatchEntryRow.handle == handle)
        )
        if existing is not None:
            changed = existing.list_name != list_name
            existing.list_name = list_name
            return changed
        self.session.add(
            WatchEntryRow(list_name=list_name, handle=handle, added_by=by, added_at=now)
        )
        await self.session.flush()
        return True

    async def remove_watch(self, handle: str) -> bool:
        result = await self.session.execute(
            delete(WatchEntryRow).where(WatchEntryRow.handle == handle)
        )
        return bool(getattr(result, "rowcount", 0))

    async def urgent_terms(self) -> list[str]:
        return list(
            await self.session.scalars(select(UrgentTermRow.term).order_by(UrgentTermRow.term))
        )

    async def add_urgent(self, term: str, *, by: str, now: datetime) -> bool:
        if term in await self.urgent_terms():
            return False
        self.session.add(UrgentTermRow(term=term, added_by=by, added_at=now))
        await self.session.flush()
        return True

    async def remove_urgent(self, term: str) -> bool:
        result = await self.session.execute(delete(UrgentTermRow).where(UrgentTermRow.term == term))
        return bool(getattr(result, "rowcount", 0))

    async def sensitive_terms(self) -> list[SensitiveTerm]:
        rows = await self.session.scalars(select(SensitiveTermRow).order_by(SensitiveTermRow.term))
        return [SensitiveTerm(r.term, r.reason, r.blocking) for r in rows]

    async def add_sensitive(self, term: SensitiveTerm, *, by: str, now: datetime) -> bool:
        row = await self.session.scalar(
            select(SensitiveTermRow).where(SensitiveTermRow.term == term.term)
        )
        if row is not None:
            row.reason, row.blocking = term.reason, term.blocking
            return False
        self.session.add(
            SensitiveTermRow(
                term=term.term,
                reason=term.reason,
                blocking=term.blocking,
                added_by=by,
                added_at=now,
            )
        )
        await self.session.flush()
        return True

    async def remove_sensitive(self, term: str) -> bool:
        result = await self.session.execute(
            delete(SensitiveTermRow).where(SensitiveTermRow.term == term)
        )
        return bool(getattr(result, "rowcount", 0))

    async def public_contacts(self) -> list[Contact]:
        rows = await self.session.execute(
            select(PublicContactRow.kind, PublicContactRow.value).order_by(
                PublicContactRow.kind, PublicContactRow.value
            )
        )
        return [Contact(ContactKind(kind), value) for kind, value in rows]

    async def add_public_contact(self, contact: Contact, *, by: str, now: datetime) -> bool:
        if contact in await self.public_contacts():
            return False
        self.session.add(
            PublicContactRow(
                kind=contact.kind.value, value=contact.value, added_by=by, added_at=now
            )
        )
        await self.session.flush()
        return True

    async def remove_public_contact(self, contact: Contact) -> bool:
        result = await self.session.execute(
            delete(PublicContactRow).where(
                PublicContactRow.kind == contact.kind.value,
                PublicContactRow.value == contact.value,
            )
        )
        return bool(getattr(result, "rowcount", 0))
