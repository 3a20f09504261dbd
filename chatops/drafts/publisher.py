"""The publisher worker: claims due outbox rows and publishes each draft exactly once.

Three short transactions per publication: claim (approved -> publishing), the network
call outside any transaction, then record (publishing -> published) only if this
worker's claim is still current. A retry after any doubt first asks the network for the
post made under the same idempotency key, so an interrupted attempt is never doubled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.chat.notify import Notifier
from chatops.domain.drafts import DraftEvent, next_state
from chatops.domain.errors import PublishError
from chatops.domain.types import SYSTEM_ACTOR, Draft, DraftState, MessageRef
from chatops.ports import PublishedPost, PublishRequest, SocialPort
from chatops.runtime.clock import Clock
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.drafts import DraftStore
from chatops.storage.mentions import MentionStore
from chatops.storage.outbox import CANCELLED, DONE, FAILED, Claim, OutboxStore
from chatops.storage.tables import DraftRow, OutboxRow

log = structlog.get_logger(__name__)

BACKOFF_CAP = timedelta(minutes=10)
CLOCK_SKEW = timedelta(minutes=1)


class PublishHooks:
    """Points where a fault-injection test stops a worker the way a crash would.

    The default does nothing. A test subclass may raise a `BaseException` (which the
    publisher does not catch, as it would not survive a SIGKILL) or kill the process.
    """

    async def after_claim(self, claim: Claim) -> None:
        """The outbox row is claimed; nothing has been sent to the network yet."""

    async def after_send(self, claim: Claim) -> None:
        """The network has the post; the outcome is not recorded yet."""


class Publisher:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        social: SocialPort,
        notifier: Notifier,
        worker_id: str,
        lease: timedelta,
        max_attempts: int,
        hooks: PublishHooks | None = None,
    ) -> None:
        self.hooks = hooks or PublishHooks()
        self.db = db
        self.clock = clock
        self.social = social
        self.notifier = notifier
        self.worker_id = worker_id
        self.lease = lease
        self.max_attempts = max_attempts

    async def run_once(self, *, limit: int = 20) -> int:
        """Publish every draft that is due now; return how many were attempted."""
        async with self.db.transaction() as session:
            due = await OutboxStore(session).due_ids(now=self.clock.now(), limit=limit)
        attempted = 0
        for outbox_id in due:
            claim = await self._claim(outbox_id)
            if claim is not None:
                await self.hooks.after_claim(claim)
                attempted += 1
                await self._publish(claim)
        return attempted

    async def _claim(self, outbox_id: int) -> Claim | None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            outbox = OutboxStore(session)
            claim = await outbox.claim(outbox_id, worker=self.worker_id, now=now, lease=self.lease)
            if claim is None:
                return None
            drafts = DraftStore(session)
            row = await drafts.row(claim.draft_id, for_update=True)
            if row is None or row.revision != claim.revision:
                held = await outbox.holds(claim)
                if held is not None:
                    await outbox.finish(held, status=CANCELLED, now=now)
                return None
            state = DraftState(row.state)
            if state is DraftState.APPROVED:
                row.state = next_state(row.id, state, DraftEvent.DUE).value
                row.updated_at = now
                await _audit(
                    session,
                    now,
                    "publishing",
                    row.id,
                    worker=self.worker_id,
                    text=row.text,
                )
            elif state is not DraftState.PUBLISHING:
                held = await outbox.holds(claim)
                if held is not None:
                    await outbox.finish(held, status=CANCELLED, now=now)
                return None
        return claim

    async def _publish(self, claim: Claim) -> None:
        async with self.db.transaction() as session:
            draft = await DraftStore(session).get(claim.draft_id)
        request = PublishRequest(
            idempotency_key=claim.idempotency_key,
            account=draft.account,
            text=draft.text,
            reply_to_id=draft.reply_to_id,
            media=draft.media,
            not_before=claim.queued_at - CLOCK_SKEW,
        )
        bound = log.bind(draft_id=claim.draft_id, attempt=claim.attempt, worker=self.worker_id)
        try:
            post = await self._send(request, claim)
            await self.hooks.after_send(claim)
        except PublishError as error:
            bound.warning("publish_failed", error=str(error), retryable=error.retryable)
            await self._failed(claim, str(error), retryable=error.retryable)
            return
        except Exception as error:
            # An unknown failure may have reached the network: the retry reconciles first.
            bound.exception("publish_crashed")
            await self._failed(claim, f"unexpected error: {type(error).__name__}", retryable=True)
            return
        await self._record(claim, post)
        bound.info("published", url=post.url)

    async def _send(self, request: PublishRequest, claim: Claim) -> PublishedPost:
        if claim.resumed:
            existing = await self.social.find_published(request)
            if existing is not None:
                return existing
        return await self.social.publish(request)

    async def _record(self, claim: Claim, post: PublishedPost) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            outbox = OutboxStore(session)
            row = await outbox.holds(claim)
            if row is None:
                # Our lease ran out and another worker took over; it will find this post.
                log.warning("claim_lost_after_publish", draft_id=claim.draft_id)
                return
            drafts = DraftStore(session)
            draft_row = await drafts.row(claim.draft_id, for_update=True)
            if draft_row is None:
                return
            next_state(claim.draft_id, DraftState(draft_row.state), DraftEvent.PUBLISHED)
            await drafts.set_published(
                claim.draft_id, external_id=post.external_id, url=post.url, now=now
            )
            await outbox.finish(row, status=DONE, now=now)
            await _audit(
                session,
                now,
                "published",
                claim.draft_id,
                external_id=post.external_id,
                url=post.url,
                text=draft_row.text,
                attempt=claim.attempt,
            )
            answered: list[int] = []
            if draft_row.reply_to_mention_id is not None:
                answered = await MentionStore(session).close_for_mention(
                    draft_row.reply_to_mention_id, by=draft_row.author, now=now
                )
            draft = await drafts.get(claim.draft_id)
            cards = await drafts.cards(claim.draft_id)
        await self._tell(draft, cards, f"Published: {post.url}")
        for alert_id in answered:
            await self._show_answered(alert_id)

    async def _show_answered(self, alert_id: int) -> None:
        async with self.db.transaction() as session:
            alert = await MentionStore(session).alert(alert_id)
        if alert is not None:
            await self.notifier.alert_changed(alert)

    async def _failed(self, claim: Claim, error: str, *, retryable: bool) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            outbox = OutboxStore(session)
            row = await outbox.holds(claim)
            if row is None:
                return
            drafts = DraftStore(session)
            if retryable and claim.attempt < self.max_attempts:
                delay = min(timedelta(seconds=2**claim.attempt), BACKOFF_CAP)
                await outbox.retry_later(row, due_at=now + delay, error=error, now=now)
                draft = await drafts.get(claim.draft_id)
                cards = await drafts.cards(claim.draft_id)
                note = (
                    f"Publishing draft {claim.draft_id} did not complete ({error}); "
                    f"trying again in {int(delay.total_seconds())} s."
                )
            else:
                draft, cards, note = await self._give_up(session, claim, row, error, now)
        await self._tell(draft, cards, note)

    async def _tell(self, draft: Draft, cards: list[MessageRef], note: str) -> None:
        """On the draft's cards; a draft without one hears it in the channel it came from."""
        if cards:
            await self.notifier.draft_changed(draft, cards, note)
        else:
            await self.notifier.without_card(draft, note)

    async def _give_up(
        self, session: AsyncSession, claim: Claim, row: OutboxRow, error: str, now: datetime
    ) -> tuple[Draft, list[MessageRef], str]:
        """No more attempts: the draft is marked failed, recoverable with `/social retry`."""
        drafts = DraftStore(session)
        draft_row = await drafts.row(claim.draft_id, for_update=True)
        assert draft_row is not None, "drafts are never deleted"
        draft_row.state = next_state(
            claim.draft_id, DraftState(draft_row.state), DraftEvent.ERROR
        ).value
        draft_row.error = error
        draft_row.updated_at = now
        await OutboxStore(session).finish(row, status=FAILED, now=now, error=error)
        await _audit(
            session, now, "publish_failed", claim.draft_id, error=error, attempts=claim.attempt
        )
        note = (
            f"Publication of draft {claim.draft_id} failed: {error}. "
            f"An approver can retry it with `/social retry {claim.draft_id}`."
        )
        return await drafts.get(claim.draft_id), await drafts.cards(claim.draft_id), note


async def _audit(
    session: AsyncSession, now: datetime, action: str, draft_id: int, **details: Any
) -> None:
    """The publisher acts as the bot itself, so its events name the system actor; they
    belong to the draft's workspace (its row is already in the session)."""
    row = await session.get(DraftRow, draft_id)
    await AuditLog(session).record(
        at=now,
        actor=SYSTEM_ACTOR.user_id,
        platform=SYSTEM_ACTOR.platform,
        action=action,
        draft_id=draft_id,
        workspace=row.origin_workspace if row is not None else "",
        **details,
    )
