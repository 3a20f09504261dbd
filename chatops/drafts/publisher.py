"""The publisher worker: claims due outbox rows and publishes each draft to each of its
targets exactly once.

Three short transactions per publication to one target: claim (the draft approved ->
publishing, the target publishing), the network call outside any transaction, then
record (the target published) only if this worker's claim is still current. A retry
after any doubt first asks the network for the post made under the same idempotency key,
so an interrupted attempt is never doubled. A draft's targets publish concurrently, so a
cross-post takes as long as its slowest network, and one target's failure neither
blocks nor repeats the others. When every target has an outcome, the draft's state
summarizes them: published, or failed (partly published when some targets made it).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.chat.notify import Notifier
from chatops.domain.accounts import DraftTarget, TargetState
from chatops.domain.drafts import DraftEvent, next_state
from chatops.domain.errors import PublishError
from chatops.domain.types import SYSTEM_ACTOR, Draft, DraftState, MessageRef
from chatops.networks import Networks
from chatops.ports import PublishedPost, PublishRequest
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
CONCURRENT_PUBLICATIONS = 16
"""At most this many network calls at once per worker: every target of a cross-post at
once, without one worker opening hundreds of connections after an outage."""


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
        networks: Networks,
        notifier: Notifier,
        worker_id: str,
        lease: timedelta,
        max_attempts: int,
        hooks: PublishHooks | None = None,
    ) -> None:
        self.hooks = hooks or PublishHooks()
        self.db = db
        self.clock = clock
        self.networks = networks
        self.notifier = notifier
        self.worker_id = worker_id
        self.lease = lease
        self.max_attempts = max_attempts

    async def run_once(self, *, limit: int = 20) -> int:
        """Publish every target that is due now, a draft at a time, each draft's targets
        concurrently; return how many were attempted.

        Claiming the targets of one draft, then publishing them together, keeps what a
        worker holds unpublished small: a worker that dies strands (until their lease runs
        out, at the cost of an attempt each) only the targets of the draft in hand, never
        every row of the batch, and the drafts before it are already published."""
        async with self.db.transaction() as session:
            due = await OutboxStore(session).due_ids(now=self.clock.now(), limit=limit)
            owners = await _drafts_of(session, due)
        attempted = 0
        for outbox_ids in _by_draft(due, owners):
            claims: list[Claim] = []
            for outbox_id in outbox_ids:
                claim = await self._claim(outbox_id)
                if claim is not None:
                    await self.hooks.after_claim(claim)
                    claims.append(claim)
            await self._publish_together(claims)
            attempted += len(claims)
        return attempted

    async def _publish_together(self, claims: list[Claim]) -> None:
        """Publish to these targets concurrently, so a cross-post takes as long as its
        slowest network.

        Dying is all or nothing, as for a process: if one publication raises what the
        publisher never catches (a `BaseException`: the fault-injection tests' kill, an
        interpreter exit), the others are cancelled before it propagates, instead of
        running on, orphaned, after their worker "died" and racing the worker that takes
        their rows over. An ordinary error in one (the database gone) lets the others
        finish first, then propagates."""
        gate = asyncio.Semaphore(CONCURRENT_PUBLICATIONS)

        async def publish(claim: Claim) -> None:
            async with gate:
                await self._publish(claim)

        pending = {asyncio.ensure_future(publish(claim)) for claim in claims}
        errors: list[Exception] = []
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    error = task.exception()
                    if error is None:
                        continue
                    if not isinstance(error, Exception):
                        raise error
                    errors.append(error)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if errors:
            raise errors[0]

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
            target = await drafts.target_row(claim.target_id)
            if target is None or target.state == TargetState.PUBLISHED.value:
                # Published already (a stale duplicate row): never a second time.
                held = await outbox.holds(claim)
                if held is not None:
                    await outbox.finish(held, status=DONE, now=now)
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
            target.state = TargetState.PUBLISHING.value
            target.updated_at = now
        return claim

    async def _publish(self, claim: Claim) -> None:
        async with self.db.transaction() as session:
            draft = await DraftStore(session).get(claim.draft_id)
        target = _target_of(draft, claim)
        request = PublishRequest(
            idempotency_key=claim.idempotency_key,
            account=target.account,
            text=target.text(draft.text),
            reply_to_id=draft.reply_to_id,
            media=draft.media,
            not_before=claim.queued_at - CLOCK_SKEW,
        )
        bound = log.bind(
            draft_id=claim.draft_id,
            target=target.key,
            attempt=claim.attempt,
            worker=self.worker_id,
        )
        try:
            post = await self._send(request, claim, target)
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

    async def _send(
        self, request: PublishRequest, claim: Claim, target: DraftTarget
    ) -> PublishedPost:
        try:
            port = self.networks.port_for(target.network, target.account)
        except LookupError:
            raise PublishError(
                f"{self._title(target)} is not connected any more; an admin can check "
                "`/social accounts`",
                retryable=False,
            ) from None
        if claim.resumed:
            existing = await port.find_published(request)
            if existing is not None:
                return existing
        return await port.publish(request)

    def _title(self, target: DraftTarget) -> str:
        return f"{self.networks.label(target.network)} @{target.account}"

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
            target_row = await drafts.target_row(claim.target_id)
            if draft_row is None or target_row is None:
                return
            if DraftState(draft_row.state) is not DraftState.PUBLISHING:
                next_state(claim.draft_id, DraftState(draft_row.state), DraftEvent.PUBLISHED)
            target_row.state = TargetState.PUBLISHED.value
            target_row.published_external_id = post.external_id
            target_row.published_url = post.url
            target_row.published_at = now
            target_row.error = None
            target_row.updated_at = now
            await outbox.finish(row, status=DONE, now=now)
            target = _target_of(await drafts.get(claim.draft_id), claim)
            await _audit(
                session,
                now,
                "published",
                claim.draft_id,
                target=target.key,
                external_id=post.external_id,
                url=post.url,
                text=target.text(draft_row.text),
                attempt=claim.attempt,
            )
            await _summarize(session, draft_row, now)
            answered: list[int] = []
            if draft_row.reply_to_mention_id is not None:
                answered = await MentionStore(session).close_for_mention(
                    draft_row.reply_to_mention_id, by=draft_row.author, now=now
                )
            draft = await drafts.get(claim.draft_id)
            cards = await drafts.cards(claim.draft_id)
        if len(draft.targets) < 2:
            await self._tell(draft, cards, f"Published: {post.url}")
        elif draft.state is DraftState.PUBLISHED:
            links = ", ".join(str(t.published_url) for t in draft.targets)
            await self._tell(
                draft, cards, f"Published on all {len(draft.targets)} targets: {links}"
            )
        elif draft.state is DraftState.FAILED:
            await self._tell(
                draft, cards, f"Published on {self._title(target)}: {post.url}{_outcome(draft)}"
            )
        # A cross-post's other targets are still under way: its card changes once, when
        # they have all landed (or sooner, with the news, if one of them runs into trouble).
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
                target = _target_of(draft, claim)
                where = "" if len(draft.targets) < 2 else f" to {self._title(target)}"
                note = (
                    f"Publishing draft {claim.draft_id}{where} did not complete ({error}); "
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
        """No more attempts for this target: it is marked failed, recoverable with
        `/social retry`; the draft fails when no other target is still under way."""
        drafts = DraftStore(session)
        draft_row = await drafts.row(claim.draft_id, for_update=True)
        target_row = await drafts.target_row(claim.target_id)
        assert draft_row is not None and target_row is not None, "drafts are never deleted"
        target_row.state = TargetState.FAILED.value
        target_row.error = error
        target_row.updated_at = now
        await OutboxStore(session).finish(row, status=FAILED, now=now, error=error)
        target = _target_of(await drafts.get(claim.draft_id), claim)
        await _audit(
            session,
            now,
            "publish_failed",
            claim.draft_id,
            target=target.key,
            error=error,
            attempts=claim.attempt,
        )
        await _summarize(session, draft_row, now)
        draft = await drafts.get(claim.draft_id)
        if len(draft.targets) < 2:
            note = (
                f"Publication of draft {claim.draft_id} failed: {error}. "
                f"An approver can retry it with `/social retry {claim.draft_id}`."
            )
        else:
            note = (
                f"Publication of draft {claim.draft_id} to {self._title(target)} failed: "
                f"{error}. An approver can retry it alone with "
                f"`/social retry {claim.draft_id} {target.key}`.{_outcome(draft)}"
            )
        return draft, await drafts.cards(claim.draft_id), note


async def _drafts_of(session: AsyncSession, outbox_ids: list[int]) -> dict[int, int]:
    """Each outbox row's draft, to publish a draft's targets together."""
    if not outbox_ids:
        return {}
    rows = await session.execute(
        select(OutboxRow.id, OutboxRow.draft_id).where(OutboxRow.id.in_(outbox_ids))
    )
    return {outbox_id: draft_id for outbox_id, draft_id in rows}


def _by_draft(due: list[int], owners: dict[int, int]) -> list[list[int]]:
    """The due rows grouped by draft, in the order the drafts first fall due."""
    groups: dict[int, list[int]] = {}
    for outbox_id in due:
        groups.setdefault(owners.get(outbox_id, -outbox_id), []).append(outbox_id)
    return list(groups.values())


def _target_of(draft: Draft, claim: Claim) -> DraftTarget:
    return next(t for t in draft.targets if t.id == claim.target_id)


def _outcome(draft: Draft) -> str:
    """For a cross-post, once every target has an outcome: how it landed overall."""
    if len(draft.targets) < 2:
        return ""
    if draft.state is DraftState.PUBLISHED:
        return f" Draft {draft.id} is published on all {len(draft.targets)} targets."
    if draft.partly_published:
        return f" Draft {draft.id} is {draft.summary}."
    return ""


async def _summarize(session: AsyncSession, draft_row: DraftRow, now: datetime) -> None:
    """Once no target is still under way, the draft's state says how its targets landed:
    published if every one is, else failed (partly published if some are), with the
    errors named. The draft's own link is its first published target's."""
    targets = (await DraftStore(session).get(draft_row.id)).targets
    states = {t.state for t in targets}
    if states & {TargetState.WAITING, TargetState.PUBLISHING}:
        return
    state = DraftState(draft_row.state)
    published = [t for t in targets if t.state is TargetState.PUBLISHED]
    if published:
        first = published[0]
        draft_row.published_external_id = first.published_id
        draft_row.published_url = first.published_url
        draft_row.published_at = draft_row.published_at or first.published_at
    if states == {TargetState.PUBLISHED}:
        draft_row.state = next_state(draft_row.id, state, DraftEvent.PUBLISHED).value
        draft_row.error = None
    else:
        draft_row.state = next_state(draft_row.id, state, DraftEvent.ERROR).value
        failed = [t for t in targets if t.state is TargetState.FAILED]
        if len(targets) == 1:
            draft_row.error = failed[0].error
        else:
            draft_row.error = "; ".join(f"{t.key}: {t.error}" for t in failed)
    draft_row.updated_at = now


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
