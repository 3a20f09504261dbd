"""What admins curate: for scoring, watch lists and the emergency lexicon; for drafts, the
sensitive terms and the agency's public contacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.access.authz import RolePolicy
from chatops.domain.types import Actor, Role
from chatops.drafts.compliance import DEFAULT_RULES, ComplianceRules, SensitiveTerm
from chatops.drafts.public_contacts import Contact, parse_contact
from chatops.listening.scoring import default_urgent_terms
from chatops.runtime.clock import Clock
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.lists import ListStore

WATCH_LISTS = ("journalists", "officials", "partners")

_DOING = {
    "watch_added": "Changing the watch lists",
    "watch_removed": "Changing the watch lists",
    "urgent_added": "Changing the urgent terms",
    "urgent_removed": "Changing the urgent terms",
    "sensitive_added": "Changing the sensitive terms",
    "sensitive_removed": "Changing the sensitive terms",
}
"""What a refusal says the person tried: sensitive terms are about drafts, not scores."""


class Curation:
    """`changed` lets the scorer pick up a change at once rather than after its refresh;
    `compliance` holds the settings' public contacts and the regions numbers are read in."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        policy: RolePolicy,
        changed: Callable[[], None],
        compliance: ComplianceRules = DEFAULT_RULES,
    ) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.changed = changed
        self.compliance = compliance

    async def watch(self) -> dict[str, str]:
        async with self.db.transaction() as session:
            return await ListStore(session).watch()

    async def urgent_terms(self) -> tuple[list[str], list[str]]:
        """(shipped terms, terms added by admins)."""
        async with self.db.transaction() as session:
            return default_urgent_terms(), await ListStore(session).urgent_terms()

    async def add_watch(self, actor: Actor, list_name: str, handle: str) -> bool:
        return await self._change(actor, "watch_added", list=list_name, handle=handle)

    async def remove_watch(self, actor: Actor, handle: str) -> bool:
        return await self._change(actor, "watch_removed", handle=handle)

    async def add_urgent(self, actor: Actor, term: str) -> bool:
        return await self._change(actor, "urgent_added", term=term)

    async def remove_urgent(self, actor: Actor, term: str) -> bool:
        return await self._change(actor, "urgent_removed", term=term)

    async def sensitive_terms(self) -> list[SensitiveTerm]:
        async with self.db.transaction() as session:
            return await ListStore(session).sensitive_terms()

    async def add_sensitive(self, actor: Actor, term: SensitiveTerm) -> bool:
        severity = "blocking" if term.blocking else "warning"
        return await self._change(
            actor, "sensitive_added", term=term.term, reason=term.reason, severity=severity
        )

    async def remove_sensitive(self, actor: Actor, term: str) -> bool:
        return await self._change(actor, "sensitive_removed", term=term)

    async def _change(self, actor: Actor, action: str, **what: str) -> bool:
        now = self.clock.now()
        async with self.db.transaction() as session:
            await self.policy.require_role(session, actor, Role.ADMIN, _DOING[action])
            lists = ListStore(session)
            if action == "watch_added":
                changed = await lists.add_watch(
                    what["list"], what["handle"], by=actor.user_id, now=now
                )
            elif action == "watch_removed":
                changed = await lists.remove_watch(what["handle"])
            elif action == "urgent_added":
                changed = await lists.add_urgent(what["term"], by=actor.user_id, now=now)
            elif action == "urgent_removed":
                changed = await lists.remove_urgent(what["term"])
            elif action == "sensitive_added":
                term = SensitiveTerm(what["term"], what["reason"], what["severity"] == "blocking")
                changed = await lists.add_sensitive(term, by=actor.user_id, now=now) or True
            else:
                changed = await lists.remove_sensitive(what["term"])
            if changed:
                await _record(session, actor, action, what, now=now)
        self.changed()
        return changed

    def contact(self, value: str) -> Contact:
        """`value` read as a phone number, an email address or a domain (ValueError if not)."""
        return parse_contact(value, self.compliance.phone_regions)

    def configured_contacts(self) -> list[Contact]:
        """The contacts CHATOPS_PUBLIC_CONTACTS lists: chat can neither add nor remove them."""
        return sorted(self.compliance.public_contacts.contacts, key=_contact_order)

    async def added_contacts(self) -> list[Contact]:
        """The contacts admins added in chat."""
        async with self.db.transaction() as session:
            return await ListStore(session).public_contacts()

    async def add_contact(self, actor: Actor, contact: Contact) -> bool:
        """False when the contact was public already, here or in the settings."""
        return await self._change_contact(actor, contact, added=True)

    async def remove_contact(self, actor: Actor, contact: Contact) -> bool:
        return await self._change_contact(actor, contact, added=False)

    async def _change_contact(self, actor: Actor, contact: Contact, *, added: bool) -> bool:
        now = self.clock.now()
        async with self.db.transaction() as session:
            await self.policy.require_role(
                session, actor, Role.ADMIN, "Changing the agency's public contacts"
            )
            lists = ListStore(session)
            if not added:
                changed = await lists.remove_public_contact(contact)
            elif contact in self.compliance.public_contacts.contacts:
                changed = False
            else:
                changed = await lists.add_public_contact(contact, by=actor.user_id, now=now)
            if changed:
                action = "public_contact_added" if added else "public_contact_removed"
                what = {"kind": contact.kind.value, "contact": contact.value}
                await _record(session, actor, action, what, now=now)
        return changed


def _contact_order(contact: Contact) -> tuple[str, str]:
    return contact.kind.value, contact.value


async def _record(
    session: AsyncSession, actor: Actor, action: str, what: Mapping[str, str], *, now: datetime
) -> None:
    await AuditLog(session).record(
        at=now,
        actor=actor.user_id,
        platform=actor.platform,
        workspace=actor.workspace,
        action=action,
        what=what,
    )
