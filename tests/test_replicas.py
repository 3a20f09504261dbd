"""Real processes: `chatops serve` and two worker replicas on one PostgreSQL database, the
workers killed with SIGKILL between claim and publish and between publish and record, and
restarted, as a process supervisor would. Every approved draft is published exactly once."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.drafts import DraftStore
from tests.conftest import _migrate, _run_apart, scratch_postgres
from tests.fakes.teams import (
    FakeConnector,
    invoke_action_activity,
    message_activity,
    reaction_activity,
)
from tests.fakes.x import FakeX

ROOT = Path(__file__).resolve().parents[1]
CHATOPS = str(Path(sys.executable).with_name("chatops"))
DRAFTS = 8
ALICE = {"user_id": "29:alice", "aad_object_id": "aad-alice", "user_name": "Alice"}
BOB = {"user_id": "29:bob", "aad_object_id": "aad-bob", "user_name": "Bob"}
CAROL = {"user_id": "29:carol", "aad_object_id": "aad-carol", "user_name": "Carol"}


@pytest.fixture
def fault_db() -> Iterator[str]:
    """A scratch database on the shared server: these processes are killed, never the server."""
    with scratch_postgres("chatops_replicas") as url:
        _run_apart(_migrate(url))
        yield url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Supervisor:
    """Starts the worker replicas and restarts any that died, counting the deaths."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def start(self, count: int) -> None:
        for _ in range(count):
            self.processes.append(self._spawn())

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "tests.fault_worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )

    def revive(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                self.processes[index] = self._spawn()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=20)

    def kills(self) -> dict[str, int]:
        text = "\n".join(p.read_text(errors="replace") for p in self.logs.glob("worker-*.log"))
        return {
            "after claim": text.count("KILLED after claim"),
            "after send": text.count("KILLED after send"),
        }


async def test_serve_and_two_killed_and_restarted_workers_publish_exactly_once(
    fault_db: str,
    tmp_path: Path,
) -> None:
    async with FakeX() as x, FakeConnector() as connector:
        port = free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
        }
        env.update(
            DATABASE_URL=fault_db,
            TEAMS_ENABLED="true",
            TEAMS_ALLOW_ANONYMOUS="true",
            CHATOPS_APPROVERS="aad-bob,aad-carol",
            CHATOPS_REQUIRED_APPROVALS="2",
            CHATOPS_PUBLISH_LEASE="5",
            CHATOPS_PUBLISH_ATTEMPTS="50",
            CHATOPS_WORKER_INTERVAL="0.2",
            CHATOPS_LOG_LEVEL="WARNING",
            X_BEARER_TOKEN=x.bearer_token,
            X_API_KEY=x.consumer_key,
            X_API_SECRET=x.consumer_secret,
            X_ACCESS_TOKEN=x.access_token,
            X_ACCESS_TOKEN_SECRET=x.access_token_secret,
            X_API_BASE_URL=x.base_url,
            CHATOPS_TEST_KILL_AFTER_CLAIM="0.3",
            CHATOPS_TEST_KILL_AFTER_SEND="0.3",
        )
        serve = _start_serve(env, port, tmp_path / "serve.log")
        workers = Supervisor(env, tmp_path)
        db = Database(fault_db)
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                await _wait_healthy(http, base)
                workers.start(2)
                for number in range(DRAFTS):
                    await _post(
                        http,
                        base,
                        message_activity(
                            f"post Replica notice {number}.",
                            service_url=connector.service_url,
                            **ALICE,
                        ),
                    )
                draft_ids = list(range(1, DRAFTS + 1))
                cards = {d: await _card(db, d) for d in draft_ids}
                clicks = []
                for draft_id, card in cards.items():
                    common = {"service_url": connector.service_url, "reply_to_id": card}
                    # What each new card's Approve action carries: the draft and its revision.
                    data = {"id": str(draft_id), "kind": "draft", "revision": 1}
                    clicks += [
                        _post(
                            http,
                            base,
                            invoke_action_activity("draft_approve", data, **common, **BOB),
                        ),
                        _post(http, base, reaction_activity(["like"], added=True, **common, **BOB)),
                        _post(
                            http,
                            base,
                            invoke_action_activity("draft_approve", data, **common, **CAROL),
                        ),
                        _post(
                            http,
                            base,
                            invoke_action_activity("draft_approve", data, **common, **CAROL),
                        ),
                    ]
                await asyncio.gather(*clicks)
                deadline = time.monotonic() + 150
                while time.monotonic() < deadline and not await _all_published(db, draft_ids):
                    workers.revive()
                    await asyncio.sleep(0.3)
            await _check(db, x, draft_ids)
            kills = workers.kills()
            print(f"\nreplicas: {DRAFTS} drafts, {workers.started} worker starts, kills {kills}")
            assert sum(kills.values()) > 0, "no worker was killed: the test proved nothing"
        finally:
            workers.stop()
            serve.terminate()
            serve.wait(timeout=20)
            await db.dispose()


def _start_serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    output = log.open("wb")
    command = [CHATOPS, "serve", "--port", str(port), "--no-workers"]
    return subprocess.Popen(command, env=env, stdout=output, stderr=output)


async def _post(http: aiohttp.ClientSession, base: str, activity: dict[str, Any]) -> None:
    async with http.post(f"{base}/api/messages", json=activity) as response:
        assert response.status in (200, 202), await response.text()


async def _wait_healthy(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(100):
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    pytest.fail("chatops serve did not come up")


async def _card(db: Database, draft_id: int) -> str:
    for _ in range(50):
        async with db.transaction() as session:
            cards = await DraftStore(session).cards(draft_id)
        if cards:
            return cards[0].message_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"draft {draft_id} has no card")


async def _all_published(db: Database, draft_ids: list[int]) -> bool:
    async with db.transaction() as session:
        drafts = [await DraftStore(session).get(d) for d in draft_ids]
    return all(d.state.value == "published" for d in drafts)


async def _check(db: Database, x: FakeX, draft_ids: list[int]) -> None:
    posts = x.posts()
    async with db.transaction() as session:
        events = await AuditLog(session).events()
        drafts = [await DraftStore(session).get(d) for d in draft_ids]
    for draft in drafts:
        matching = [p for p in posts if p["text"] == draft.text]
        actions = [e.action for e in events if e.draft_id == draft.id]
        assert draft.state.value == "published", (draft.id, draft.state, draft.error)
        assert len(matching) == 1, (draft.id, len(matching))
        assert draft.published_id == matching[0]["id"]
        assert actions.count("approval") == 2 and actions.count("approved") == 1, actions
        assert actions.count("published") == 1, actions
