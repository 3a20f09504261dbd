"""Granting and revoking roles in chat; only admins may, and every change is audited.

A grant holds in the workspace it was made in; the roles configured in settings hold in
every workspace of their platform.
"""

from __future__ import annotations

from chatops.access.authz import RolePolicy
from chatops.domain.types import Actor, Role
from chatops.runtime.clock import Clock
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.roles import RoleStore


class RoleAdmin:
    def __init__(self, *, db: Database, clock: Clock, policy: RolePolicy) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy

    async def grant(self, actor: Actor, user_id: str, role: Role) -> bool:
        return await self._change(actor, user_id, role, grant=True)

    async def revoke(self, actor: Actor, user_id: str, role: Role) -> bool:
        return await self._change(actor, user_id, role, grant=False)

    async def listing(self, actor: Actor) -> list[tuple[str, Role, str]]:
        """Everyone with a role in the actor's workspace, and where the role comes from."""
        async with self.db.transaction() as session:
            granted = await RoleStore(session).all(actor.platform, actor.workspace)
        rows = [(user, Role.ADMIN, "CHATOPS_ADMINS") for user in sorted(self.policy.admins)]
        rows += [
            (user, Role.APPROVER, "CHATOPS_APPROVERS") for user in sorted(self.policy.approvers)
        ]
        rows += [(user, role, "granted in chat") for user, role in granted]
        return rows

    async def roles_of(self, actor: Actor) -> set[Role]:
        async with self.db.transaction() as session:
            return await self.policy.roles(session, actor)

    async def _change(self, actor: Actor, user_id: str, role: Role, *, grant: bool) -> bool:
        now = self.clock.now()
        verb = "Granting" if grant else "Revoking"
        async with self.db.transaction() as session:
            await self.policy.require_role(session, actor, Role.ADMIN, f"{verb} roles")
            store = RoleStore(session)
            if grant:
                changed = await store.grant(
                    actor.platform, actor.workspace, user_id, role, by=actor.user_id, now=now
                )
            else:
                changed = await store.revoke(actor.platform, actor.workspace, user_id, role)
            if changed:
                await AuditLog(session).record(
                    at=now,
                    actor=actor.user_id,
                    platform=actor.platform,
                    workspace=actor.workspace,
                    action="role_granted" if grant else "role_revoked",
                    user=user_id,
                    role=role.value,
                )
        return changed
