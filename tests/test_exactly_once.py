"""Exactly once, under faults: hundreds of randomized trials on PostgreSQL, of drafts to
one target and of cross-posts to two or three (X and two sandbox networks).

Two publisher replicas race for the outbox while approvers approve at the same instant
(by button and by reaction, with duplicates), workers die between claim and publish and
between publish and record, X answers 5xx, drops the connection after accepting the
post, or answers too slowly, and in a few trials the database restarts (a private
cluster the test creates, never the machine's shared server). After every
trial: each approved draft was published exactly once, no unapproved draft was
published, and every outcome is in the audit log.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select

from adapters.social.sandbox.network import SandboxNetwork
from adapters.social.sandbox.sites import SANDBOX_BLUESKY, SANDBOX_MASTODON
from chatops.domain.errors import ChatOpsError
from chatops.domain.types import Actor, ChannelRef, DraftState, Via
from chatops.drafts.publisher import Publisher, PublishHooks
from chatops.drafts.workflow import DraftWorkflow, NewDraft
from chatops.networks import Connection, Networks
from chatops.runtime.clock import ManualClock
from chatops.service import Service, build_service
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.outbox import Claim, OutboxStore
from chatops.storage.tables import SandboxPostRow
from tests.conftest import IN_CI, POSTGRES_ADMIN_DSN, START, _run_apart
from tests.fakes.x import FakeX
from tests.harness import make_settings
from tests.private_postgres import PrivatePostgres, PrivatePostgresUnavailable, private_postgres

TRIALS = int(os.environ.get("CHATOPS_FAULT_TRIALS", "300"))
CROSS_POST_TRIALS = max(3, TRIALS // 3)
SANDBOX_NETWORKS = ("sandbox-mastodon", "sandbox-bluesky")
DB_RESTARTS = 2
ALICE = Actor("slack", "UALICE", "alice", "C1", "T1")
BOB = Actor("slack", "UBOB", "bob", "C1", "T1")
CAROL = Actor("slack", "UCAROL", "carol", "C1", "T1")
CHANNEL = ChannelRef("slack", "C1", "T1")


class WorkerCrash(BaseException):
    """A worker process dying: not an `Exception`, so nothing in the publisher catches it."""


@dataclass
class CrashingHooks(PublishHooks):
    rng: random.Random
    after_claim_rate: float = 0.0
    after_send_rate: float = 0.0
    crashes: list[str] = field(default_factory=list)

    async def after_claim(self, claim: Claim) -> None:
        if self.rng.random() < self.after_claim_rate:
            self.crashes.append("after_claim")
            raise WorkerCrash

    async def after_send(self, claim: Claim) -> None:
        if self.rng.random() < self.after_send_rate:
            self.crashes.append("after_send")
            raise WorkerCrash


@dataclass
class Tally:
    trials: int = 0
    drafts: int = 0
    published: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def count(self, fault: str) -> None:
        self.faults[fault] = self.faults.get(fault, 0) + 1


@pytest.fixture
def fault_cluster() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own: the trials restart it, and restarting the
    machine's shared server would break every other run using it at the same time."""
    try:
        with private_postgres() as cluster:
            yield cluster
    except PrivatePostgresUnavailable as error:
        if IN_CI:
            pytest.fail(f"a private PostgreSQL cluster is required in CI: {error}")
        pytest.skip(f"no private PostgreSQL cluster: {error}")


@pytest.fixture
def fault_db(fault_cluster: PrivatePostgres) -> str:
    async def migrate() -> None:
        db = Database(fault_cluster.url)
        await db.upgrade()
        await db.dispose()

    _run_apart(migrate())
    return fault_cluster.url


@pytest.fixture
async def rig(fault_db: str) -> AsyncIterator[tuple[Service, FakeX, ManualClock]]:
    clock = ManualClock(START)
    async with FakeX(clock=clock.now) as fake:
        settings = make_settings(
            fault_db,
            x_bearer_token=fake.bearer_token,
            x_api_key=fake.consumer_key,
            x_api_secret=fake.consumer_secret,
            x_access_token=fake.access_token,
            x_access_token_secret=fake.access_token_secret,
            x_api_base_url=fake.base_url,
            x_timeout_seconds=0.3,
            approvers=(BOB.user_id, CAROL.user_id),
            required_approvals=2,
            publish_lease_seconds=5,
            # Crashes are taken over after the lease and count as attempts; at these crash
            # rates five attempts could run out, which would fail the draft cleanly (a
            # recoverable outcome, tested elsewhere) rather than test exactly-once.
            publish_max_attempts=50,
        )
        service = build_service(settings, clock=clock)
        await service.social.start()
        yield service, fake, clock
        await service.close()


def replica(service: Service, name: str, hooks: PublishHooks) -> Publisher:
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


async def run_replica(worker: Publisher) -> None:
    """One beat of a replica; a crash or a lost database ends the beat, as it would."""
    try:
        await worker.run_once()
    except WorkerCrash:
        pass
    except Exception:
        await asyncio.sleep(0.05)


async def test_randomized_trials_publish_each_approved_draft_exactly_once(
    rig, fault_cluster: PrivatePostgres
) -> None:
    service, fake, clock = rig
    workflow = service.core.workflow
    tally = Tally()
    shared_server_started = await shared_server_start_time()
    for trial in range(TRIALS):
        rng = random.Random(20261121 + trial)
        hooks = [
            CrashingHooks(
                rng,
                after_claim_rate=rng.choice([0, 0, 0.5]),
                after_send_rate=rng.choice([0, 0, 0.5]),
            )
            for _ in range(2)
        ]
        workers = [replica(service, f"trial{trial}-{n}", hooks[n]) for n in range(2)]
        expected: dict[int, bool] = {}
        approvals = []
        for number in range(rng.randint(1, 3)):
            draft = await workflow.create(
                ALICE, CHANNEL, NewDraft(text=f"Trial {trial}, notice {number}: Main St closed.")
            )
            plan = rng.choice(["approve", "approve", "approve", "one_approval", "cancel"])
            expected[draft.id] = plan == "approve"
            if plan == "cancel":
                await workflow.cancel(ALICE, draft.id)
                continue
            approvals += [workflow.approve(BOB, draft.id, Via.BUTTON, seen_revision=1)]
            if rng.random() < 0.5:
                approvals += [
                    workflow.approve(BOB, draft.id, Via.REACTION, seen_revision=1)
                ]  # same approval twice
                tally.count("button and reaction for one approval")
            if plan == "approve":
                approvals += [workflow.approve(CAROL, draft.id, Via.REACTION, seen_revision=1)]
                if rng.random() < 0.5:
                    approvals += [
                        workflow.approve(CAROL, draft.id, Via.REACTION, seen_revision=1)
                    ]  # duplicate event
                    tally.count("duplicated chat event")
        rng.shuffle(approvals)
        results = await asyncio.gather(*approvals, return_exceptions=True)
        assert all(not isinstance(r, Exception) or isinstance(r, ChatOpsError) for r in results), (
            results
        )
        if len(approvals) > 1:
            tally.count("simultaneous approvals")

        network_fault = rng.choice([None, None, "5xx", "drop", "slow"])
        if network_fault == "5xx":
            fake.server_error("/2/tweets", times=rng.randint(1, 2))
        elif network_fault == "drop":
            fake.drop_after_accepting(times=1)
        elif network_fault == "slow" and rng.random() < 0.3:
            fake.slow("/2/tweets", seconds=0.5)
        else:
            network_fault = None
        if network_fault:
            tally.count(f"network {network_fault}")
        restart = trial in (TRIALS // 3, 2 * TRIALS // 3)[:DB_RESTARTS]

        for beat in range(30):
            beat_work = [run_replica(w) for w in workers]
            if restart and beat == 0:
                # The server goes down while the replicas are claiming and publishing.
                beat_work.append(asyncio.to_thread(fault_cluster.restart))
                tally.count("database restart")
            await asyncio.gather(*beat_work)
            if await _settled(service, expected):
                break
            clock.advance(timedelta(seconds=6))  # past the lease and any back-off
            await asyncio.sleep(0.01)
        for hook in hooks:
            for crash in hook.crashes:
                tally.count(f"worker killed {crash.replace('_', ' ')}")
        await _check_invariants(service, fake, expected)
        tally.trials += 1
        tally.drafts += len(expected)
        tally.published += sum(expected.values())
        await asyncio.sleep(0.7 if network_fault == "slow" else 0)  # let a slow answer land

    assert tally.trials == TRIALS
    for fault in (
        "worker killed after claim",
        "worker killed after send",
        "network drop",
        "network 5xx",
    ):
        assert tally.faults.get(fault, 0) > 0, (fault, tally.faults)
    assert tally.faults.get("database restart", 0) > 0 or TRIALS < 3, tally.faults
    # The restarts were the private cluster's: the machine's shared server never went down.
    assert await shared_server_start_time() == shared_server_started
    summary = f"{tally.trials} trials, {tally.drafts} drafts, {tally.published} published"
    print(f"\nexactly-once: {summary}; faults: {tally.faults}")


async def shared_server_start_time() -> object:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        return await connection.fetchval("SELECT pg_postmaster_start_time()")
    finally:
        await connection.close()


async def _settled(service: Service, expected: dict[int, bool]) -> bool:
    for draft_id, approved in expected.items():
        state = (await service.core.workflow.get(draft_id)).state
        if approved and state is not DraftState.PUBLISHED:
            return False
    return True


async def _check_invariants(service: Service, fake: FakeX, expected: dict[int, bool]) -> None:
    posts = fake.posts()
    async with service.db.transaction() as session:
        events = await AuditLog(session).events(since=None)
    for draft_id, approved in expected.items():
        draft = await service.core.workflow.get(draft_id)
        matching = [p for p in posts if p["text"] == draft.text]
        actions = [e.action for e in events if e.draft_id == draft_id]
        if approved:
            assert draft.state is DraftState.PUBLISHED, (draft_id, draft.state, draft.error)
            assert len(matching) == 1, (draft_id, len(matching))
            assert draft.published_id == matching[0]["id"]
            assert actions.count("approved") == 1 and actions.count("published") == 1, actions
            assert actions.count("approval") == 2, actions
        else:
            assert draft.state is not DraftState.PUBLISHED
            assert matching == [], draft_id
            assert "published" not in actions and "approved" not in actions, actions


@pytest.fixture
async def cross_rig(rig) -> tuple[Service, FakeX, ManualClock]:  # type: ignore[no-untyped-def]
    """The rig's X account and two sandbox networks, one registry for the whole service:
    drafts go to X and one or both sandbox networks."""
    service, fake, clock = rig
    (x_port,) = service.networks.ports
    ports = [x_port]
    for site in (SANDBOX_MASTODON, SANDBOX_BLUESKY):
        ports.append(
            SandboxNetwork(db=service.db, clock=clock, accounts=tuple(x_port.accounts), site=site)
        )
    networks = Networks([Connection(port) for port in ports])
    service.networks = networks
    service.publisher.networks = networks
    service.core.workflow.networks = networks
    return service, fake, clock


async def test_randomized_trials_publish_each_target_of_a_cross_post_exactly_once(
    cross_rig,
) -> None:
    """Workers die after claiming a target and after sending it, X fails or drops the
    connection, approvals race: every target of every approved cross-post is published
    exactly once, and nothing of a cancelled or unapproved one."""
    service, fake, clock = cross_rig
    workflow = service.core.workflow
    tally = Tally()
    for trial in range(CROSS_POST_TRIALS):
        rng = random.Random(20261201 + trial)
        hooks = [
            CrashingHooks(
                rng,
                after_claim_rate=rng.choice([0, 0, 0.3]),
                after_send_rate=rng.choice([0, 0, 0.3]),
            )
            for _ in range(2)
        ]
        workers = [replica(service, f"cross{trial}-{n}", hooks[n]) for n in range(2)]
        expected: dict[int, bool] = {}
        approvals = []
        for number in range(rng.randint(1, 2)):
            x_account = service.networks.accounts()[0].key
            to = rng.choice(["all", *(f"{x_account} {network}" for network in SANDBOX_NETWORKS)])
            draft = await workflow.create(
                ALICE,
                CHANNEL,
                NewDraft(text=f"Cross-post {trial}.{number}: shelter at Pier 3.", targets=to),
            )
            tally.count(f"{len(draft.targets)} targets")
            plan = rng.choice(["approve", "approve", "approve", "one_approval", "cancel"])
            expected[draft.id] = plan == "approve"
            if plan == "cancel":
                await workflow.cancel(ALICE, draft.id)
                continue
            approvals += _approvals(workflow, rng, draft.id, both=plan == "approve")
        rng.shuffle(approvals)
        results = await asyncio.gather(*approvals, return_exceptions=True)
        assert all(not isinstance(r, Exception) or isinstance(r, ChatOpsError) for r in results), (
            results
        )

        network_fault = rng.choice([None, None, "5xx", "drop"])
        if network_fault == "5xx":
            fake.server_error("/2/tweets", times=rng.randint(1, 2))
        elif network_fault == "drop":
            fake.drop_after_accepting(times=1)
        if network_fault:
            tally.count(f"network {network_fault}")

        for _beat in range(40):
            await asyncio.gather(*(run_replica(w) for w in workers))
            if await _settled(service, expected):
                break
            # Past every lease, and on to the next back-off's end: the trial tests exactly
            # once, not how long X's back-off lasts after many crashes.
            async with service.db.transaction() as session:
                due = await OutboxStore(session).next_due()
            wait = timedelta(seconds=6)
            if due is not None and due - clock.now() > wait:
                wait = due - clock.now() + timedelta(seconds=1)
            clock.advance(wait)
            await asyncio.sleep(0.01)
        for hook in hooks:
            for crash in hook.crashes:
                tally.count(f"worker killed {crash.replace('_', ' ')}")
        await _check_targets(service, fake, expected)
        tally.trials += 1
        tally.drafts += len(expected)
        tally.published += sum(expected.values())

    assert tally.trials == CROSS_POST_TRIALS
    for fault in (
        "worker killed after claim",
        "worker killed after send",
        "network drop",
        "network 5xx",
        "2 targets",
        "3 targets",
    ):
        assert tally.faults.get(fault, 0) > 0, (fault, tally.faults)
    summary = f"{tally.trials} trials, {tally.drafts} cross-posts, {tally.published} published"
    print(f"\nexactly-once per target: {summary}; faults: {tally.faults}")


def _approvals(
    workflow: DraftWorkflow, rng: random.Random, draft_id: int, *, both: bool
) -> list[object]:
    """Bob's approval (sometimes by button and reaction both), and Carol's when `both`
    (sometimes delivered twice)."""
    approvals = [workflow.approve(BOB, draft_id, Via.BUTTON, seen_revision=1)]
    if rng.random() < 0.5:
        approvals.append(workflow.approve(BOB, draft_id, Via.REACTION, seen_revision=1))
    if both:
        approvals.append(workflow.approve(CAROL, draft_id, Via.REACTION, seen_revision=1))
        if rng.random() < 0.5:
            approvals.append(workflow.approve(CAROL, draft_id, Via.REACTION, seen_revision=1))
    return approvals


async def _check_targets(service: Service, fake: FakeX, expected: dict[int, bool]) -> None:
    """Each target of an approved draft published exactly once, on its own network, with
    its link on the draft; nothing anywhere of the others."""
    x_posts = fake.posts()
    async with service.db.transaction() as session:
        events = await AuditLog(session).events(since=None)
        sandbox_posts = list(await session.scalars(select(SandboxPostRow)))
    for draft_id, approved in expected.items():
        draft = await service.core.workflow.get(draft_id)
        on_x = [p for p in x_posts if p["text"] == draft.text]
        on_sandbox = [p for p in sandbox_posts if p.text == draft.text]
        actions = [e.action for e in events if e.draft_id == draft_id]
        if not approved:
            assert draft.state is not DraftState.PUBLISHED
            assert on_x == [] and on_sandbox == [], draft_id
            assert "published" not in actions and "approved" not in actions, actions
            continue
        assert draft.state is DraftState.PUBLISHED, (draft_id, draft.state, draft.error)
        sandbox_targets = [t for t in draft.targets if t.network != "x"]
        assert len(on_x) == 1, (draft_id, len(on_x))
        assert len(on_sandbox) == len(sandbox_targets), (draft_id, len(on_sandbox))
        for target in draft.targets:
            assert target.published_url, (draft_id, target.key)
            if target.network == "x":
                assert target.published_id == on_x[0]["id"]
            else:
                mine = [p for p in on_sandbox if p.network == target.network]
                assert len(mine) == 1, (draft_id, target.key, len(mine))
        assert len({t.published_url for t in draft.targets}) == len(draft.targets)
        assert actions.count("approved") == 1, actions
        assert actions.count("published") == len(draft.targets), actions
