"""What admins curate for scoring: watch lists and the emergency lexicon."""

from __future__ import annotations

from collections.abc import Callable

from chatops.authz import RolePolicy
from chatops.clock import Clock
from chatops.compliance import SensitiveTerm
from chatops.domain.types import Actor, Role
from chatops.scoring import default_urgent_terms
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
    """`changed` lets the scorer pick up a change at once rather than after its refresh."""

    def __init__(
        self, *, db: Database, clock: Clock, policy: RolePolicy, changed: Callable[[], None]
    ) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.changed = changed

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
                await AuditLog(session).record(
                    at=now,
                    actor=actor.user_id,
                    platform=actor.platform,
                    workspace=actor.workspace,
                    action=action,
                    what=what,
                )
        self.changed()
        return changed
