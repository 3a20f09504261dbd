"""The publication outbox: the row a worker claims before it publishes a draft to one of
its targets (one row per draft and target).

A claim is a lease: a worker that dies mid-publication leaves a claimed row whose lease
runs out, and the next worker takes it over and first asks the network whether the post
already exists, so the post is neither lost nor doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.storage.tables import DraftTargetRow, OutboxRow

PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"


@dataclass(frozen=True)
class Claim:
    outbox_id: int
    draft_id: int
    revision: int
    attempt: int
    worker: str
    queued_at: datetime
    target_id: int = 0
    position: int = 0

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of the same revision and target, so a network can
        recognise repeats. A draft's first target keeps the key drafts had when they had
        one target, so a publication in flight across the upgrade is still recognised."""
        key = f"draft-{self.draft_id}-rev-{self.revision}"
        return key if self.position == 0 else f"{key}-target-{self.position}"

    @property
    def resumed(self) -> bool:
        """True when an earlier attempt may already have reached the network."""
        return self.attempt > 1


class OutboxStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self, draft_id: int, target_id: int, revision: int, *, due_at: datetime, now: datetime
    ) -> None:
        """Queue (or re-queue, after a retry) the publication to one target at `due_at`."""
        row = await self.session.scalar(
            select(OutboxRow).where(
                OutboxRow.draft_id == draft_id, OutboxRow.target_id == target_id
            )
        )
        if row is None:
            self.session.add(
                OutboxRow(
                    draft_id=draft_id,
                    target_id=target_id,
                    revision=revision,
                    status=PENDING,
                    due_at=due_at,
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            # A publication attempted before (a retry after it failed) may have reached the
            # network: counting that attempt makes the next claim ask the network first.
            tried = row.revision == revision and row.attempts > 0
            row.revision = revision
            row.status = PENDING
            row.due_at = due_at
            row.attempts = 1 if tried else 0
            row.claimed_by = None
            row.lease_until = None
            row.last_error = None
            row.updated_at = now
        await self.session.flush()

    async def cancel(self, draft_id: int, *, now: datetime) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.draft_id == draft_id, OutboxRow.status == PENDING)
            .values(status=CANCELLED, updated_at=now)
        )

    async def due_ids(self, *, now: datetime, limit: int) -> list[int]:
        """Rows ready to claim: pending and due, or claimed by a worker whose lease ran out."""
        query = (
            select(OutboxRow.id)
            .where(
                or_(
                    (OutboxRow.status == PENDING) & (OutboxRow.due_at <= now),
                    (OutboxRow.status == CLAIMED) & (OutboxRow.lease_until < now),
                )
            )
            .order_by(OutboxRow.due_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def claim(
        self, outbox_id: int, *, worker: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        """Take the row if it is still claimable; None if another worker got there first."""
        row = await self.session.scalar(
            select(OutboxRow).where(OutboxRow.id == outbox_id).with_for_update()
        )
        if row is None:
            return None
        claimable = (row.status == PENDING and row.due_at <= now) or (
            row.status == CLAIMED and row.lease_until is not None and row.lease_until < now
        )
        if not claimable:
            return None
        row.status = CLAIMED
        row.claimed_by = worker
        row.lease_until = now + lease
        row.attempts += 1
        row.updated_at = now
        await self.session.flush()
        target = await self.session.get_one(DraftTargetRow, row.target_id)
        return Claim(
            row.id,
            row.draft_id,
            row.revision,
            row.attempts,
            worker,
            row.created_at,
            target_id=row.target_id,
            position=target.position,
        )

    async def holds(self, claim: Claim) -> OutboxRow | None:
        """The row, locked, if this worker's claim on it is still the current one."""
        row = await self.session.scalar(
            select(OutboxRow).where(OutboxRow.id == claim.outbox_id).with_for_update()
        )
        if row is None or row.status != CLAIMED or row.claimed_by != claim.worker:
            return None
        if row.attempts != claim.attempt:
            return None
        return row

    async def finish(
        self, row: OutboxRow, *, status: str, now: datetime, error: str | None = None
    ) -> None:
        row.status = status
        row.lease_until = None
        row.last_error = error
        row.updated_at = now
        await self.session.flush()

    async def retry_later(
        self, row: OutboxRow, *, due_at: datetime, error: str, now: datetime
    ) -> None:
        row.status = PENDING
        row.due_at = due_at
        row.lease_until = None
        row.last_error = error
        row.updated_at = now
        await self.session.flush()

    async def open_for(self, draft_id: int) -> int:
        """How many of the draft's publications are queued or under way."""
        rows = await self.session.scalars(
            select(OutboxRow.id).where(
                OutboxRow.draft_id == draft_id, OutboxRow.status.in_([PENDING, CLAIMED])
            )
        )
        return len(list(rows))

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(OutboxRow.due_at)
            .where(OutboxRow.status == PENDING)
            .order_by(OutboxRow.due_at)
            .limit(1)
        )
