"""The reply inbox: assign to me, mark handled, and questions that wait too long come back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from chatops.access.authz import same_workspace
from chatops.chat.notify import Notifier
from chatops.domain.errors import NotFound
from chatops.domain.types import Actor, Alert, ChannelRef, MessageRef
from chatops.listening.alert_cap import AlertCap, HeldAlert
from chatops.runtime.clock import Clock
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.held import HeldStore
from chatops.storage.mentions import MentionStore
from chatops.storage.reports import ReportStore
from chatops.storage.tables import AlertRow, MentionRow

log = structlog.get_logger(__name__)


INBOX_LIMIT = 20
"""Questions `/alerts inbox` lists at once; beyond them it says there are more."""


@dataclass(frozen=True)
class Waiting:
    """A question in the reply inbox: who asked what, by when it should be answered."""

    alert_id: int
    handle: str
    text: str
    reference: str
    due_at: datetime | None
    assignee: str | None


class AlertDesk:
    def __init__(
        self, *, db: Database, clock: Clock, notifier: Notifier, cap: AlertCap | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.cap = cap or AlertCap()

    async def held(self, channel: ChannelRef) -> list[HeldAlert]:
        """The channel's alerts waiting under its per-minute cap, in the order they follow."""
        async with self.db.transaction() as session:
            rows = await HeldStore(session).held(channel)
        return [
            HeldAlert(alert.id, mention.score, mention.author_handle, mention.text, mention.url)
            for alert, mention in rows
        ]

    async def get(self, alert_id: int, actor: Actor | None = None) -> Alert:
        """The alert as `actor` may see it: an alert of another workspace does not exist
        for them. Without an actor, agency-wide."""
        async with self.db.transaction() as session:
            alert = await MentionStore(session).alert(alert_id)
        if alert is None or (
            actor is not None and not same_workspace(actor, alert.channel.workspace_id)
        ):
            raise _no_such_alert(alert_id)
        return alert

    async def assign(self, actor: Actor, alert_id: int, assignee: str | None = None) -> Alert:
        """Assign to the actor (the card's button) or to a colleague they name (the command);
        anyone in the alert's workspace may, as with the button."""
        return await self._change(
            actor, alert_id, "alert_assigned", assignee=assignee or actor.user_id
        )

    async def mark_handled(self, actor: Actor, alert_id: int) -> Alert:
        return await self._change(actor, alert_id, "alert_handled", handled_by=actor.user_id)

    async def awaiting_answer(self, actor: Actor, channel: ChannelRef) -> list[Waiting]:
        """The channel's questions nobody has answered or marked handled, soonest deadline
        first: what the desk works through. Only the actor's own workspace has any."""
        if not same_workspace(actor, channel.workspace_id):
            return []
        async with self.db.transaction() as session:
            rows = await ReportStore(session).awaiting_answer(channel, limit=INBOX_LIMIT + 1)
        return [
            Waiting(
                alert_id=alert.id,
                handle=mention.author_handle,
                text=mention.text,
                reference=mention.external_id,
                due_at=alert.due_at,
                assignee=alert.assignee,
            )
            for alert, mention in rows
        ]

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
            if row is None or not same_workspace(actor, row.workspace_id):
                raise _no_such_alert(alert_id)
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
                workspace=row.workspace_id,
                action=action,
                alert_id=alert_id,
                **_assigned(assignee),
            )
            alert = await store.alert(alert_id)
        assert alert is not None
        await self.notifier.alert_changed(alert)
        return alert


class ReplyInbox:
    """Questions past the response target come back to their channel, once."""

    def __init__(
        self, *, db: Database, clock: Clock, notifier: Notifier, target_hours: float
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.target_hours = target_hours

    async def resurface_overdue(self) -> int:
        now = self.clock.now()
        platforms = list(self.notifier.chats)
        if not platforms:
            return 0
        async with self.db.transaction() as session:
            overdue = await ReportStore(session).overdue_questions(now, platforms)
            for alert, _ in overdue:
                alert.resurfaced_at = now
            notes = [
                (_channel(alert), _message(alert), self._note(alert, mention))
                for alert, mention in overdue
            ]
        for channel, thread, note in notes:
            try:
                await self.notifier.chats[channel.platform].post_message(
                    channel, note, thread=thread
                )
            except Exception:
                log.exception("resurface_failed", channel=channel.channel_id)
        return len(notes)

    def _note(self, alert: AlertRow, mention: MentionRow) -> str:
        who = f"assigned to {alert.assignee}" if alert.assignee else "nobody is assigned yet"
        hours = f"{self.target_hours:g}"
        return (
            f"Still unanswered after {hours} business hours ({who}): @{mention.author_handle}: "
            f"“{mention.text[:140]}” {mention.url} Reply with `/reply {mention.external_id} TEXT`."
        )


def _assigned(assignee: str | None) -> dict[str, Any]:
    """The audit detail of an assignment: whom, since it may be someone else."""
    return {} if assignee is None else {"assignee": assignee}


def _no_such_alert(alert_id: int) -> NotFound:
    return NotFound(f"There is no alert {alert_id}.")


def _channel(alert: AlertRow) -> ChannelRef:
    return ChannelRef(alert.platform, alert.channel_id, alert.workspace_id)


def _message(alert: AlertRow) -> MessageRef | None:
    return MessageRef(_channel(alert), alert.message_id) if alert.message_id else None
