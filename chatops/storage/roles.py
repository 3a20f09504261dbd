"""Role grants made in chat with `/social roles grant|revoke`, each in one workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import Role
from chatops.storage.tables import RoleRow


class RoleStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def roles_of(self, platform: str, workspace: str, user_id: str) -> set[Role]:
        rows = await self.session.scalars(
            select(RoleRow.role).where(
                RoleRow.platform == platform,
                RoleRow.workspace == workspace,
                RoleRow.user_id == user_id,
            )
        )
        return {Role(value) for value in rows}

    async def grant(
        self, platform: str, workspace: str, user_id: str, role: Role, *, by: str, now: datetime
    ) -> bool:
        if role in await self.roles_of(platform, workspace, user_id):
            return False
        self.session.add(
            RoleRow(
                platform=platform,
                workspace=workspace,
                user_id=user_id,
                role=role.value,
                granted_by=by,
                granted_at=now,
            )
        )
        await self.session.flush()
        return True

    async def revoke(self, platform: str, workspace: str, user_id: str, role: Role) -> bool:
        result = await self.session.execute(
            delete(RoleRow).where(
                RoleRow.platform == platform,
                RoleRow.workspace == workspace,
                RoleRow.user_id == user_id,
                RoleRow.role == role.value,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def all(self, platform: str, workspace: str) -> list[tuple[str, Role]]:
        rows = await self.session.execute(
            select(RoleRow.user_id, RoleRow.role)
            .where(RoleRow.platform == platform, RoleRow.workspace == workspace)
            .order_by(RoleRow.user_id, RoleRow.role)
        )
        return [(user, Role(role)) for user, role in rows]
