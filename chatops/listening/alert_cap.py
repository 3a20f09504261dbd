"""The per-minute cap on a channel's instant alerts: which wait, and in what order they follow.

A channel gets at most `per_minute` instant alerts in any minute, so a burst cannot bury
the channel. Past that, alerts are held, never dropped: as the cap allows in later minutes
they follow, highest score first, so a run of small mentions cannot push the day's most
notable one back (the digest also lists those still waiting). An alert scoring
`urgent_score` or more is never held; it still counts towards the minute. Routing and the
delivery beat both let alerts through with `admit`, so the order is the same whether room
frees up during a poll or between polls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.types import ChannelRef
from chatops.storage.held import HeldStore

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class HeldAlert:
    id: int
    score: int
    author: str
    text: str
    url: str


@dataclass(frozen=True)
class AlertCap:
    per_minute: int = 10
    urgent_score: int = 70

    def urgent(self, score: int) -> bool:
        return score >= self.urgent_score

    async def admit(self, session: AsyncSession, channel: ChannelRef, now: datetime) -> list[int]:
        """Let through as many of the channel's held alerts as this minute has room for,
        highest score first; their mentions' ids."""
        store = HeldStore(session)
        await store.lock_channel(channel)
        room = self.per_minute - await store.queued_since(channel, now - MINUTE)
        if room <= 0:
            return []
        return await store.release(channel, room, now=now)

    def notice(self, held: int) -> str:
        """What a channel is told, once, when its cap starts holding alerts back."""
        return (
            f"{held} alert(s) held by this channel's cap of {self.per_minute} a minute. "
            "They follow here, highest score first, as the cap allows (the digest lists any "
            "still waiting); `/alerts held` lists them. "
            f"Alerts scoring {self.urgent_score} or more are never held."
        )

    def summary(self, held: int) -> str:
        if not held:
            return (
                f"Nothing is held in this channel. Past {self.per_minute} alerts a minute, "
                "the rest wait here and follow highest score first; alerts scoring "
                f"{self.urgent_score} or more are never held."
            )
        return (
            f"{held} alert(s) held by this channel's cap of {self.per_minute} a minute; "
            "they follow in this order as the cap allows:"
        )
