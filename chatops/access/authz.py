"""Who may do what: one check that every path changing a draft or a role goes through."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.errors import NotAllowed, NotFound
from chatops.domain.types import Actor, Draft, Role
from chatops.storage.roles import RoleStore


def same_workspace(actor: Actor, workspace: str) -> bool:
    """Whether something of `workspace` exists for `actor` at all: workspaces (Slack teams,
    Teams tenants; "" for the console) are not tenants of each other."""
    return actor.workspace == workspace


def workspace_refused(workspace: str) -> str:
    """What a person in a workspace off CHATOPS_WORKSPACES is told (nothing was done)."""
    return (
        f"This workspace ({workspace or 'unknown'}) is not allowed to use chatops, so I did "
        "nothing. An admin can add it to CHATOPS_WORKSPACES."
    )


def no_such_draft(draft_id: int) -> NotFound:
    """The one answer for a draft that does not exist *or belongs to another workspace*,
    so no workspace learns which ids another one has."""
    return NotFound(f"There is no draft {draft_id}.", hint="`/social queue` lists open drafts.")


@dataclass(frozen=True)
class RolePolicy:
    """Roles from settings, from grants in the database, and for open platforms.

    Grants belong to the workspace they were made in. The configured admins and approvers
    (CHATOPS_ADMINS, CHATOPS_APPROVERS) hold their role in every workspace of their
    platform: the agency named them, not one workspace.

    An *open* platform (the console on a machine with no approvers configured) treats
    every user as approver, and also as admin when no admin is configured either: it is
    one person's own terminal. The author still never approves their own draft there.

    `workspaces` (CHATOPS_WORKSPACES) are the workspaces that may install and use the
    bot; empty allows any.
    """

    admins: frozenset[str] = frozenset()
    approvers: frozenset[str] = frozenset()
    open_platforms: frozenset[str] = frozenset()
    workspaces: frozenset[str] = frozenset()

    @classmethod
    def from_settings(
        cls,
        admins: Collection[str],
        approvers: Collection[str],
        open_platforms: Collection[str],
        workspaces: Collection[str] = (),
    ) -> RolePolicy:
        return cls(
            frozenset(admins),
            frozenset(approvers),
            frozenset(open_platforms),
            frozenset(workspaces),
        )

    def allows_workspace(self, workspace: str) -> bool:
        """May this workspace install and use the bot at all?"""
        return not self.workspaces or workspace in self.workspaces

    def require_visible(self, actor: Actor, draft: Draft) -> None:
        """A draft of another workspace is, for this actor, a draft that does not exist."""
        if not same_workspace(actor, draft.workspace):
            raise no_such_draft(draft.id)

    def configured_roles(self, actor: Actor) -> set[Role]:
        roles: set[Role] = set()
        if actor.user_id in self.admins:
            roles.add(Role.ADMIN)
        if actor.user_id in self.approvers:
            roles.add(Role.APPROVER)
        if actor.platform in self.open_platforms and not self.approvers:
            roles.add(Role.APPROVER)
            if not self.admins:
                roles.add(Role.ADMIN)
        return roles

    async def roles(self, session: AsyncSession, actor: Actor) -> set[Role]:
        granted = await RoleStore(session).roles_of(actor.platform, actor.workspace, actor.user_id)
        roles = self.configured_roles(actor) | granted
        if Role.ADMIN in roles:
            roles.add(Role.APPROVER)
        return roles

    async def require_approver(self, session: AsyncSession, actor: Actor, draft: Draft) -> None:
        """Approving needs the approver role and someone who wrote no part of the draft:
        whoever changed its content (an edit, an image description) is one of its authors."""
        self.require_visible(actor, draft)
        if draft.written_by(actor):
            created = (draft.author_platform, draft.author) == (actor.platform, actor.user_id)
            wrote = "wrote" if created else "changed"
            raise NotAllowed(
                f"You {wrote} draft {draft.id}, so you cannot approve it yourself.",
                hint="Ask another approver to review it.",
            )
        if Role.APPROVER not in await self.roles(session, actor):
            raise NotAllowed(
                f"Approving draft {draft.id} needs the approver role, which you do not have.",
                hint="An admin can grant it with `/social roles grant USER approver`.",
            )

    async def require_role(
        self, session: AsyncSession, actor: Actor, role: Role, doing: str
    ) -> None:
        if role not in await self.roles(session, actor):
            raise NotAllowed(
                f"{doing} needs the {role.value} role, which you do not have.",
                hint="Ask an admin (`/social roles` lists them).",
            )

    async def require_author_or_approver(
        self, session: AsyncSession, actor: Actor, draft: Draft, doing: str
    ) -> None:
        self.require_visible(actor, draft)
        if draft.written_by(actor):
            return
        if Role.APPROVER not in await self.roles(session, actor):
            raise NotAllowed(
                f"Only the author of draft {draft.id} or an approver can {doing} it.",
                hint="Ask the author or an approver.",
            )
