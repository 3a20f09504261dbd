"""A cross-post: one approval publishes each of a draft's targets once, concurrently, and a
target that fails is retried alone while the others stay published once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.social.sandbox.network import SandboxNetwork
from chatops.chat.cards import draft_card
from chatops.domain.accounts import TargetState
from chatops.domain.errors import PublishError
from chatops.domain.types import Actor, ChannelRef, DraftState, Via
from chatops.drafts.publisher import Publisher, PublishHooks
from chatops.drafts.workflow import NewDraft
from chatops.networks import Connection, Networks
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.runtime.clock import ManualClock
from chatops.service import Service, build_service
from chatops.storage.outbox import Claim
from chatops.storage.tables import SandboxPostRow
from tests.conftest import START
from tests.harness import make_settings

ALICE = Actor("slack", "UALICE", "alice", "C1", "T1")
BOB = Actor("slack", "UBOB", "bob", "C1", "T1")
CHANNEL = ChannelRef("slack", "C1", "T1")
HANDLE = "PortAlderCity"


class SandboxOn:
    """The real sandbox network under another network's name (`sbx-a`, `sbx-b`...), as the
    sandbox's Mastodon-like and Bluesky-like networks will be; it can be told to refuse
    the next `refusals` posts outright (a suspended account) or to take `delay` seconds
    to answer, and it notes when each publication began and ended."""

    kind = "x"

    def __init__(
        self,
        inner: SandboxNetwork,
        network: str,
        *,
        refusals: int = 0,
        delay: float = 0.0,
        events: list[str] | None = None,
    ) -> None:
        self.inner = inner
        self.network = network
        self.label = f"Sandbox {network}"
        self.refusals = refusals
        self.delay = delay
        self.events = events if events is not None else []
        self.publish_calls = 0

    @property
    def accounts(self) -> Sequence[str]:
        return (HANDLE,)

    async def start(self) -> None:
        """The sandbox needs no connection."""

    async def close(self) -> None:
        """Nothing to disconnect."""

    async def publish(self, request: PublishRequest) -> PublishedPost:
        self.publish_calls += 1
        self.events.append(f"start {self.network}")
        try:
            if self.refusals:
                self.refusals -= 1
                raise PublishError(f"{self.network} refused the post: suspended", retryable=False)
            await asyncio.sleep(self.delay)
            return await self.inner.publish(request)
        finally:
            self.events.append(f"end {self.network}")

    async def find_published(self, request: PublishRequest) -> PublishedPost | None:
        return await self.inner.find_published(request)

    async def fetch_mentions(self, cursor: str | None, *, limit: int) -> MentionBatch:
        return MentionBatch(mentions=(), cursor=cursor)

    async def search(self, query: str, cursor: str | None, *, limit: int) -> MentionBatch:
        return MentionBatch(mentions=(), cursor=cursor)

    async def lookup_mention(self, reference: str) -> None:
        return None


def use_networks(service: Service, networks: Networks) -> None:
    """Every part of the service that resolves targets or publishes uses `networks`."""
    service.networks = networks
    service.publisher.networks = networks
    service.core.workflow.networks = networks
    service.notifier.network_labels = {p.network: p.label for p in networks.ports}


@dataclass
class Rig:
    service: Service
    ports: list[SandboxOn]
    events: list[str]


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[Rig]:
    clock = ManualClock(START)
    service = build_service(
        make_settings(database_url, approvers=(BOB.user_id,), required_approvals=1), clock=clock
    )
    sandbox = SandboxNetwork(db=service.db, clock=clock)
    events: list[str] = []
    ports = [SandboxOn(sandbox, name, events=events) for name in ("sbx-a", "sbx-b", "sbx-c")]
    use_networks(service, Networks([Connection(port) for port in ports]))
    yield Rig(service, ports, events)
    await service.close()


async def approved_cross_post(service: Service, text: str) -> int:
    workflow = service.core.workflow
    draft = await workflow.create(ALICE, CHANNEL, NewDraft(text=text, targets="all"))
    assert len(draft.targets) == 3, draft.targets
    await workflow.approve(BOB, draft.id, Via.BUTTON, seen_revision=draft.revision)
    return draft.id


async def sandbox_posts(service: Service) -> Counter[str]:
    """Posts per idempotency key (one key per draft, revision and target)."""
    async with service.db.transaction() as session:
        keys = await session.scalars(select(SandboxPostRow.idempotency_key))
        return Counter(keys)


async def test_a_refused_target_fails_alone_and_is_retried_alone(rig: Rig) -> None:
    service, (first, refusing, third) = rig.service, rig.ports
    refusing.refusals = 1
    draft_id = await approved_cross_post(service, "Boil-water notice for Zone 4.")

    await service.publisher.run_once()

    draft = await service.core.workflow.get(draft_id)
    assert draft.state is DraftState.FAILED and draft.partly_published
    assert [t.network for t in draft.failed_targets] == ["sbx-b"]
    assert "refused" in (draft.target(f"sbx-b:@{HANDLE}").error or "")  # type: ignore[union-attr]
    assert [t.network for t in draft.published_targets] == ["sbx-a", "sbx-c"]
    assert "partly published" in draft.summary
    card = draft_card(draft, zone=ZoneInfo("UTC"), labels=service.core.label)
    state = next(f.value for f in card.fields if f.label == "State")
    assert state == f"Partly published (failed: sbx-b:@{HANDLE})"  # the handle as spelled

    outcome = await service.core.workflow.retry(BOB, draft_id, f"sbx-b:@{HANDLE}")
    assert outcome.changed
    await service.publisher.run_once()
    await service.publisher.run_once()  # nothing more to do: nothing is published twice

    draft = await service.core.workflow.get(draft_id)
    assert draft.state is DraftState.PUBLISHED, (draft.state, draft.error)
    assert all(t.state is TargetState.PUBLISHED and t.published_url for t in draft.targets)
    assert len({t.published_url for t in draft.targets}) == 3
    assert (first.publish_calls, refusing.publish_calls, third.publish_calls) == (1, 2, 1)
    posts = await sandbox_posts(service)
    assert len(posts) == 3 and set(posts.values()) == {1}, posts


async def test_retrying_a_target_that_did_not_fail_is_refused(rig: Rig) -> None:
    service = rig.service
    rig.ports[2].refusals = 1
    draft_id = await approved_cross_post(service, "Library closed Monday.")
    await service.publisher.run_once()

    with pytest.raises(Exception, match="did not fail on sbx-a"):
        await service.core.workflow.retry(BOB, draft_id, f"sbx-a:@{HANDLE}")
    assert rig.ports[0].publish_calls == 1


async def test_the_targets_of_a_cross_post_publish_concurrently(rig: Rig) -> None:
    service = rig.service
    for port in rig.ports:
        port.delay = 0.3
    draft_id = await approved_cross_post(service, "Shelter open at Pier 3.")

    assert await service.publisher.run_once() == 3

    # Every network was asked before any answered: the second did not wait for the first.
    starts = [n for n, event in enumerate(rig.events) if event.startswith("start")]
    ends = [n for n, event in enumerate(rig.events) if event.startswith("end")]
    assert len(starts) == len(ends) == 3, rig.events
    assert max(starts) < min(ends), rig.events
    draft = await service.core.workflow.get(draft_id)
    assert draft.state is DraftState.PUBLISHED
    assert len([t for t in draft.targets if t.published_url]) == 3


class Killed(BaseException):
    """The worker process dying: nothing in the publisher catches it."""


class KillAt(PublishHooks):
    """Kills the worker after it claims a target of draft `after_claim`, or after it sends
    the publication to network `after_send`."""

    def __init__(self, service: Service, *, after_claim: int = 0, after_send: str = "") -> None:
        self.service = service
        self.claim_of_draft = after_claim
        self.send_to = after_send

    async def after_claim(self, claim: Claim) -> None:
        if claim.draft_id == self.claim_of_draft:
            raise Killed

    async def after_send(self, claim: Claim) -> None:
        draft = await self.service.core.workflow.get(claim.draft_id)
        target = next(t for t in draft.targets if t.id == claim.target_id)
        if target.network == self.send_to:
            raise Killed


def worker(service: Service, hooks: PublishHooks, name: str = "doomed") -> Publisher:
    return Publisher(
        db=service.db,
        clock=service.clock,
        networks=service.networks,
        notifier=service.notifier,
        worker_id=name,
        lease=timedelta(seconds=service.settings.publish_lease_seconds),
        max_attempts=service.settings.publish_max_attempts,
        hooks=hooks,
    )


async def test_a_worker_killed_mid_fan_out_publishes_nothing_more_and_is_taken_over(
    rig: Rig,
) -> None:
    """The kill stops the worker's other publications too, as a process's death would:
    none of them runs on, orphaned, to race the worker that takes its rows over."""
    service, (fast, slow_b, slow_c) = rig.service, rig.ports
    slow_b.delay = slow_c.delay = 0.2
    draft_id = await approved_cross_post(service, "Evacuate Zone 2 now.")

    with pytest.raises(Killed):
        await worker(service, KillAt(service, after_send="sbx-a")).run_once()
    await asyncio.sleep(1)  # long enough for an orphan to have finished its post

    # Only the post the dead worker made before dying: sbx-b's and sbx-c's were cut off.
    assert sum((await sandbox_posts(service)).values()) == 1

    clock = service.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(seconds=service.settings.publish_lease_seconds + 1))
    assert await worker(service, PublishHooks(), "survivor").run_once() == 3
    draft = await service.core.workflow.get(draft_id)
    assert draft.state is DraftState.PUBLISHED, (draft.state, draft.error)
    posts = await sandbox_posts(service)
    assert len(posts) == 3 and set(posts.values()) == {1}, posts
    assert fast.publish_calls == 1  # the survivor found the post the dead worker made


async def test_a_worker_killed_while_claiming_a_draft_has_published_the_drafts_before_it(
    rig: Rig,
) -> None:
    """A worker holds only the draft in hand unpublished: its death strands that draft's
    targets until their lease runs out, not every row it had found due."""
    service = rig.service
    first = await approved_cross_post(service, "Pier 3 shelter open.")
    second = await approved_cross_post(service, "Pier 3 shelter full.")

    with pytest.raises(Killed):
        await worker(service, KillAt(service, after_claim=second)).run_once()

    assert (await service.core.workflow.get(first)).state is DraftState.PUBLISHED
    assert (await service.core.workflow.get(second)).state is DraftState.PUBLISHING
