"""A channel's default targets: where `/post` without `--to` publishes from there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import ChannelRef
from chatops.storage.reports import ReportStore
from chatops.storage.tables import ChannelSettingsRow


class ChannelTargets:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: ChannelRef) -> str:
        """The channel's default targets as set (a `--to` value); "" when it has none."""
        found = await self.session.scalar(
            select(ChannelSettingsRow.default_targets).where(*_of(channel))
        )
        return found or ""

    async def set(self, channel: ChannelRef, targets: str, *, now: datetime) -> None:
        """Set them ("" clears them); the channel's other settings start as digests' do."""
        row = await ReportStore(self.session).settings_of(channel, now=now)
        row.default_targets = targets
        await self.session.flush()


def _of(channel: ChannelRef) -> tuple[ColumnElement[bool], ...]:
    return (
        ChannelSettingsRow.platform == channel.platform,
        ChannelSettingsRow.workspace_id == channel.workspace_id,
        ChannelSettingsRow.channel_id == channel.channel_id,
    )
