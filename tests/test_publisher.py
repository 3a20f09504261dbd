"""Publication through the outbox: crashes, retries and races never lose or double a post."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from adapters.social.sandbox.network import SandboxNetwork
from chatops.domain.accounts import AccountHealth
from chatops.domain.errors import PublishError
from chatops.domain.types import DraftState
from chatops.drafts.publisher import Publisher
from chatops.networks import Connection, Networks
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.storage.audit import AuditLog
from chatops.storage.outbox import OutboxStore

ROAD = "/post Road closure on Main St tonight."


class FlakyNetwork:
    """The real sandbox network behind a link that fails as told, before or after sending."""

    def __init__(self, inner: SandboxNetwork, failures: Sequence[str]) -> None:
        self.inner = inner
        self.failures = list(failures)
        self.network = inner.network
        self.kind = inner.kind
        self.label = inner.label
        self.publish_calls = 0

    @property
    def accounts(self) -> Sequence[str]:
        return self.inner.accounts

    def health(self) -> Sequence[AccountHealth]:
        return self.inner.health()

    async def publish(self, request: PublishRequest) -> PublishedPost:
        self.publish_calls += 1
        failure = self.failures.pop(0) if self.failures else "ok"
        if failure == "refused":
            raise PublishError("the network refused the post: account suspended", retryable=False)
        if failure == "5xx-before":
            raise PublishError("503 Service Unavailable", retryable=True)
        post = await self.inner.publish(request)
        if failure == "timeout-after":
            raise PublishError("timed out after sending", retryable=True, ambiguous=True)
        return post

    async def find_published(self, request: PublishRequest) -> PublishedPost | None:
        return await self.inner.find_published(request)

    async def fetch_mentions(self, cursor: str | None, *, limit: int) -> MentionBatch:
        return await self.inner.fetch_mentions(cursor, limit=limit)

    async def lookup_mention(self, reference: str):  # type: ignore[no-untyped-def]
        return await self.inner.lookup_mention(reference)


def second_worker(chat, social, name: str = "worker-2") -> Publisher:  # type: ignore[no-untyped-def]
    service = chat.service
    return Publisher(
        db=service.db,
        clock=service.clock,
        networks=Networks([Connection(social)]),
        notifier=service.notifier,
        worker_id=name,
        lease=timedelta(seconds=service.settings.publish_lease_seconds),
        max_attempts=service.settings.publish_max_attempts,
    )


async def approve_without_publishing(chat) -> None:  # type: ignore[no-untyped-def]
    """Approve draft 1 through the workflow, leaving the outbox row for the test to work."""
    from chatops.domain.types import Actor, Via

    await chat.say(ROAD)
    await chat.service.core.workflow.approve(
        Actor("console", "bob"), 1, Via.BUTTON, seen_revision=1
    )


async def test_worker_dying_after_claim_is_taken_over_after_the_lease(converse) -> None:
    chat = await converse(user="alice")
    await approve_without_publishing(chat)
    now = chat.clock.now()
    async with chat.service.db.transaction() as session:
        outbox = OutboxStore(session)
        [row_id] = await outbox.due_ids(now=now, limit=5)
        claim = await outbox.claim(row_id, worker="dead", now=now, lease=timedelta(seconds=120))
    assert claim is not None
    # The dead worker never publishes. Before its lease ends, nobody else may take the row.
    assert await chat.service.publisher.run_once() == 0
    chat.clock.advance(timedelta(seconds=121))
    assert await chat.service.publisher.run_once() == 1
    assert len(await chat.service.social.posts()) == 1
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHED


async def test_crash_between_publish_and_record_does_not_post_twice(converse) -> None:
    chat = await converse(user="alice")
    await approve_without_publishing(chat)
    flaky = FlakyNetwork(chat.service.social, ["timeout-after"])
    first = second_worker(chat, flaky, "worker-a")
    await first.run_once()
    assert len(await chat.service.social.posts()) == 1  # it did reach the network
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHING

    chat.clock.advance(timedelta(seconds=3))
    await first.run_once()
    assert flaky.publish_calls == 1  # the retry found the post instead of sending again
    assert len(await chat.service.social.posts()) == 1
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PUBLISHED
    assert draft.published_url == (await chat.service.social.posts())[0][0].url


async def test_a_retry_after_giving_up_asks_the_network_before_sending_again(converse) -> None:
    """The last attempt timed out after sending: the post may exist. An approver's retry
    must find it rather than post it a second time."""
    chat = await converse(user="alice", publish_max_attempts=1)
    await approve_without_publishing(chat)
    flaky = FlakyNetwork(chat.service.social, ["timeout-after"])
    chat.service.publisher.networks = Networks([Connection(flaky)])
    await chat.service.publisher.run_once()
    assert (await chat.service.core.workflow.get(1)).state is DraftState.FAILED
    assert len(await chat.service.social.posts()) == 1
    said = await chat.say("/as bob", "/social retry 1")
    assert "queued for publication again" in said
    assert flaky.publish_calls == 1
    assert len(await chat.service.social.posts()) == 1
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHED


async def test_transient_failures_back_off_then_publish(converse) -> None:
    chat = await converse(user="alice")
    await approve_without_publishing(chat)
    flaky = FlakyNetwork(chat.service.social, ["5xx-before", "5xx-before"])
    worker = second_worker(chat, flaky)
    await worker.run_once()
    await worker.run_once()  # backing off: not due yet
    assert flaky.publish_calls == 1
    chat.clock.advance(timedelta(seconds=2))
    await worker.run_once()
    assert flaky.publish_calls == 2
    chat.clock.advance(timedelta(seconds=4))
    await worker.run_once()
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHED
    assert len(await chat.service.social.posts()) == 1


async def test_refused_publication_fails_visibly_and_can_be_retried(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD)
    flaky = FlakyNetwork(chat.service.social, ["refused"])
    chat.service.publisher.networks = Networks([Connection(flaky)])
    said = await chat.say("/as bob", "/social approve 1")
    assert "State: Publication failed" in said
    assert "account suspended" in said
    assert "/social retry 1" in said
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.FAILED
    assert draft.text == ROAD.removeprefix("/post ")

    retried = await chat.say("/social retry 1")
    assert "State: Published" in retried
    async with chat.service.db.transaction() as session:
        actions = [e.action for e in await AuditLog(session).events(draft_id=1)]
    assert actions == [
        "created",
        "approval",
        "approved",
        "publishing",
        "publish_failed",
        "retried",
        "publishing",
        "published",
    ]


async def test_two_workers_racing_publish_once(converse) -> None:
    chat = await converse(user="alice")
    for index in range(6):
        await chat.say(f"/post Update number {index}")
    from chatops.domain.types import Actor, Via

    for draft_id in range(1, 7):
        await chat.service.core.workflow.approve(
            Actor("console", "bob"), draft_id, Via.BUTTON, seen_revision=1
        )
    workers = [second_worker(chat, chat.service.social, f"w{i}") for i in range(2)]
    await asyncio.gather(*(w.run_once() for w in workers))
    await asyncio.gather(*(w.run_once() for w in workers))
    posts = await chat.service.social.posts()
    assert sorted(text for _, text in posts) == sorted(f"Update number {i}" for i in range(6))
    for draft_id in range(1, 7):
        assert (await chat.service.core.workflow.get(draft_id)).state is DraftState.PUBLISHED


async def test_cancelled_draft_is_never_published(converse) -> None:
    chat = await converse(user="alice")
    await chat.say('/post --at "in 2 hours" Later', "/as bob", "/social approve 1")
    await chat.say("/social cancel 1")
    chat.clock.advance(timedelta(hours=3))
    await chat.tick()
    assert await chat.service.social.posts() == []
    assert (await chat.service.core.workflow.get(1)).state is DraftState.CANCELLED


async def test_simultaneous_approvals_approve_exactly_once(converse) -> None:
    from chatops.domain.types import Actor, Via

    chat = await converse(user="alice", required_approvals=2)
    await chat.say(ROAD)
    workflow = chat.service.core.workflow
    await asyncio.gather(
        workflow.approve(Actor("console", "bob"), 1, Via.BUTTON, seen_revision=1),
        workflow.approve(Actor("console", "carol"), 1, Via.REACTION, seen_revision=1),
        workflow.approve(Actor("console", "bob"), 1, Via.REACTION, seen_revision=1),
    )
    draft = await workflow.get(1)
    assert draft.state is DraftState.APPROVED
    assert sorted(draft.approvers) == ["bob", "carol"]
    async with chat.service.db.transaction() as session:
        actions = [e.action for e in await AuditLog(session).events(draft_id=1)]
    assert actions.count("approved") == 1
    assert actions.count("approval") == 2
    await chat.tick()
    assert len(await chat.service.social.posts()) == 1
