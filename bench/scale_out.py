"""Scale-out: publication throughput with one and with two `chatops worker` replicas.

Drafts are approved in bulk on a scratch PostgreSQL database; the fake X API answers every
post after a fixed delay (the network's own latency); the workers (real `chatops worker`
processes) drain the outbox. Reported: drafts published per second for each replica count,
their ratio, and the duplicate count (which must be zero).

    python -m bench.scale_out            # 200 drafts, 50 ms per post
    python -m bench.scale_out --quick    # 20 drafts: proves it runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.pipeline import _drop_postgres, _scratch_postgres
from chatops.domain.types import Actor, ChannelRef, DraftState, Via
from chatops.drafts.workflow import NewDraft
from chatops.runtime.clock import SystemClock
from chatops.runtime.logs import configure_logging
from chatops.runtime.settings import Settings
from chatops.service import build_service
from chatops.storage.database import Database
from chatops.storage.drafts import DraftStore
from tests.fakes.x import FakeX

ROOT = Path(__file__).resolve().parents[1]
CHATOPS = str(Path(sys.executable).with_name("chatops"))
ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class ScaleOut:
    replicas: int
    drafts: int
    seconds: float
    per_second: float
    duplicates: int


def x_env(fake: FakeX) -> dict[str, str]:
    return {
        "X_BEARER_TOKEN": fake.bearer_token,
        "X_API_KEY": fake.consumer_key,
        "X_API_SECRET": fake.consumer_secret,
        "X_ACCESS_TOKEN": fake.access_token,
        "X_ACCESS_TOKEN_SECRET": fake.access_token_secret,
        "X_API_BASE_URL": fake.base_url,
    }


async def approve_in_bulk(url: str, fake: FakeX, count: int, label: str) -> list[int]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        approvers=("bench-approver",),
        **{k.lower(): v for k, v in x_env(fake).items()},
    )
    service = build_service(settings, clock=SystemClock())
    await service.social.start()
    author, approver = Actor("bench", "bench-author"), Actor("bench", "bench-approver")
    ids = []
    for number in range(count):
        draft = await service.core.workflow.create(
            author,
            ChannelRef("bench", "C1"),
            NewDraft(text=f"{label} notice {number}: Pier 3 open."),
        )
        ids.append(draft.id)
    for draft_id in ids:
        await service.core.workflow.approve(approver, draft_id, Via.BUTTON, seen_revision=1)
    await service.close()
    return ids


async def published(db: Database, ids: list[int]) -> int:
    async with db.transaction() as session:
        drafts = await DraftStore(session).many([DraftState.PUBLISHED], limit=len(ids) + 1)
    return len({d.id for d in drafts} & set(ids))


async def run_once(replicas: int, count: int, delay: float) -> ScaleOut:
    name, url = await _scratch_postgres(ADMIN_URL)
    try:
        db = Database(url)
        await db.upgrade()
        async with FakeX() as fake:
            ids = await approve_in_bulk(url, fake, count, f"{replicas}-replica run")
            fake.slow("/2/tweets", seconds=delay, times=count * 2)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
            }
            env.update(
                x_env(fake),
                DATABASE_URL=url,
                CHATOPS_WORKER_INTERVAL="0.05",
                CHATOPS_LOG_LEVEL="WARNING",
            )
            started = time.perf_counter()
            workers = [
                subprocess.Popen(
                    [CHATOPS, "worker"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(replicas)
            ]
            try:
                while await published(db, ids) < count:
                    if time.perf_counter() - started > 600:
                        raise TimeoutError("the workers did not finish")
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(timeout=30)
            texts = Counter(post["text"] for post in fake.posts())
            duplicates = sum(n - 1 for n in texts.values() if n > 1)
        await db.dispose()
    finally:
        await _drop_postgres(ADMIN_URL, name)
    return ScaleOut(replicas, count, round(elapsed, 2), round(count / elapsed, 1), duplicates)


async def run(count: int, delay: float) -> list[ScaleOut]:
    return [await run_once(replicas, count, delay) for replicas in (1, 2)]


def table(results: list[ScaleOut]) -> str:
    one = results[0].per_second
    lines = [
        "| replicas | drafts | seconds | published/s | vs one replica | duplicates |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        ratio = f"{r.per_second / one:.2f}x"
        lines.append(
            f"| {r.replicas} | {r.drafts} | {r.seconds} | {r.per_second} "
            f"| {ratio} | {r.duplicates} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="20 drafts: proves it runs")
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds X takes per post")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    results = asyncio.run(run(20 if args.quick else args.drafts, args.delay))
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0 if all(r.duplicates == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
