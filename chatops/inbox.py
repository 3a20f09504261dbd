"""Acting on relayed mentions: assign to me, mark handled, reply from the alert."""

from __future__ import annotations

from chatops.clock import Clock
from chatops.domain.errors import NotFound
from chatops.domain.types import Actor, Alert
from chatops.notify import Notifier
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore


class AlertDesk:
    def __init__(self, *, db: Database, clock: Clock, notifier: Notifier) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier

    async def get(self, alert_id: int) -> Alert:
        async with self.db.transaction() as session:
            alert = await MentionStore(session).alert(alert_id)
        if alert is None:
            raise NotFound(f"There is no alert {alert_id}.")
        return alert

    async def assign(self, actor: Actor, alert_id: int) -> Alert:
        return await self._change(actor, alert_id, "alert_assigned", assignee=actor.user_id)

    async def mark_handled(self, actor: Actor, alert_id: int) -> Alert:
        return await self._change(actor, alert_id, "alert_handled", handled_by=actor.user_id)

    async def _change(
        self,
        actor: Actor,
        alert_id: int,
        action: str,
        *,
        assignee: str | None = None,
        handled_by: str | None = None,
    ) -> Alert:
        now = self.clock.now()
        async with self.db.transaction() as session:
            store = MentionStore(session)
            row = await store.alert_row(alert_id)
            if row is None:
                raise NotFound(f"There is no alert {alert_id}.")
            if assignee is not None:
                row.assignee = assignee
            if handled_by is not None:
                row.state = "handled"
                row.handled_by = handled_by
                row.handled_at = now
            await session.flush()
            await AuditLog(session).record(
                at=now,
                actor=actor.user_id,
                platform=actor.platform,
                channel=row.channel_id,
                action=action,
                alert_id=alert_id,
            )
            alert = await store.alert(alert_id)
        assert alert is not None
        await self.notifier.alert_changed(alert)
        return alert
