"""Mention pipeline throughput: parse, dedupe, score, route and persist, in mentions/s.

The baseline, measured in the same run on the same database, only inserts the same
mentions (already parsed) into the same table in the same batches, so the ratio is
the cost of everything the pipeline adds. 20 subscriptions are routed against.

    python -m bench.pipeline                              # SQLite and PostgreSQL, 20,000 mentions
                                                          # (after 2,000 untimed, then ANALYZE)
    python -m bench.pipeline --quick                      # 1,000 mentions: proves it runs
    python -m bench.pipeline --postgres postgresql+asyncpg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert

from adapters.social.sandbox.feed import demo_feed, mention_from_json
from chatops.domain.types import Actor, ChannelRef, Mention
from chatops.listening.monitoring import MentionPipeline, ScorerSource
from chatops.listening.scoring import ScoreWeights
from chatops.listening.subscriptions import Subscriptions
from chatops.runtime.clock import SystemClock
from chatops.runtime.logs import configure_logging
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore
from chatops.storage.tables import MentionRow

BATCH = 100
WARM_UP = 2_000
RULES = [
    "flood OR flooding OR sandbags",
    '"boil water" OR "tap water"',
    "outage OR power OR electricity",
    "evacuation OR evacuate OR shelter",
    "trapped OR injured OR emergency min_score:30",
    "is:question",
    "sentiment:negative min_score:20",
    "lang:es",
    "lang:vi OR lang:zh",
    "ferry OR bus OR transit",
    "library OR hours",
    "trash OR pickup OR recycling",
    "permit OR fees",
    "tax OR deadline",
    '"Main St" OR detour OR closure',
    "bridge OR lane",
    "rumor OR dam",
    "comment OR deadline OR reporter",
    "thanks OR thank OR great",
    "spam OR giveaway mode:digest",
]


@dataclass(frozen=True)
class Throughput:
    database: str
    mentions: int
    pipeline_per_s: float
    baseline_per_s: float

    @property
    def ratio(self) -> float:
        return self.pipeline_per_s / self.baseline_per_s


def lines(count: int) -> list[str]:
    """`count` distinct mention lines in the demo feed's JSON shape."""
    feed = demo_feed()
    out = []
    start = datetime(2026, 3, 9, tzinfo=UTC)
    for index in range(count):
        base = feed[index % len(feed)]
        out.append(
            json.dumps(
                {
                    "id": f"bench-{index}",
                    "created_at": (start + timedelta(seconds=index)).isoformat(),
                    "author": {
                        "handle": base.author.handle,
                        "name": base.author.name,
                        "followers": base.author.followers,
                        "verified": base.author.verified,
                    },
                    "text": base.text,
                    "lang": base.language,
                    "kind": base.kind,
                    "refers_to": base.refers_to,
                    "metrics": base.metrics,
                }
            )
        )
    return out


async def measure(url: str, label: str, count: int) -> Throughput:
    raw = lines(count)
    pipeline_rate = await _pipeline(url, raw)
    baseline_rate = await _baseline(url, raw)
    return Throughput(label, count - WARM_UP, round(pipeline_rate), round(baseline_rate))


async def _fresh(url: str) -> Database:
    db = Database(url)
    await db.upgrade()
    return db


async def _pipeline(url: str, raw: list[str]) -> float:
    db = await _fresh(url)
    clock = SystemClock()
    subscriptions = Subscriptions(db=db, clock=clock)
    for number, rule in enumerate(RULES):
        channel = ChannelRef("bench", f"C{number % 5}")
        await subscriptions.subscribe(Actor("bench", "admin"), channel, rule)
    pipeline = MentionPipeline(
        db=db,
        clock=clock,
        scorers=ScorerSource(ScoreWeights(), agency_handles=lambda: ["PortAlderCity"], clock=clock),
    )
    warm, timed = raw[:WARM_UP], raw[WARM_UP:]
    for offset in range(0, len(warm), BATCH):
        await pipeline.ingest(
            [mention_from_json(json.loads(line)) for line in warm[offset : offset + BATCH]]
        )
    await _analyze(db)
    started = time.perf_counter()
    for offset in range(0, len(timed), BATCH):
        batch = [mention_from_json(json.loads(line)) for line in timed[offset : offset + BATCH]]
        await pipeline.ingest(batch, cursor=("bench", str(offset)))
    elapsed = time.perf_counter() - started
    await db.dispose()
    return len(timed) / elapsed


async def _analyze(db: Database) -> None:
    """What autovacuum does on a live database: table statistics, so the planner uses the
    indexes. A table created seconds ago has none, and every lookup would scan it."""
    async with db.engine.connect() as connection:
        await connection.exec_driver_sql("ANALYZE")
        await connection.commit()


async def _baseline(url: str, raw: list[str]) -> float:
    db = await _fresh(url)
    now = datetime.now(UTC)
    mentions = [
        replace(mention_from_json(json.loads(line)), external_id=f"b{i}")
        for i, line in enumerate(raw)
    ]
    await _plain_insert(db, mentions[:WARM_UP], now)
    await _analyze(db)
    started = time.perf_counter()
    await _plain_insert(db, mentions[WARM_UP:], now)
    elapsed = time.perf_counter() - started
    async with db.transaction() as session:
        assert await MentionStore(session).find("sandbox", "b0") is not None
    await db.dispose()
    return (len(mentions) - WARM_UP) / elapsed


async def _plain_insert(db: Database, mentions: list[Mention], now: datetime) -> None:
    for offset in range(0, len(mentions), BATCH):
        rows = [
            {
                "network": m.network,
                "external_id": m.external_id,
                "url": m.url,
                "author_handle": m.author.handle,
                "author_name": m.author.name,
                "author_followers": m.author.followers,
                "author_verified": m.author.verified,
                "text": m.text,
                "language": m.language,
                "kind": m.kind,
                "refers_to": m.refers_to,
                "in_reply_to": m.in_reply_to,
                "metrics": m.metrics,
                "score": 0,
                "sentiment": "neutral",
                "is_question": False,
                "reasons": [],
                "created_at": m.created_at,
                "received_at": now,
            }
            for m in mentions[offset : offset + BATCH]
        ]
        async with db.transaction() as session:
            await session.execute(insert(MentionRow), rows)


async def _scratch_postgres(admin_url: str) -> tuple[str, str]:
    name = f"chatops_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


async def _drop_postgres(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


async def run(count: int, postgres: str | None) -> list[Throughput]:
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        results.append(await measure(f"sqlite+aiosqlite:///{scratch}/p.db", "SQLite", count))
    if postgres:
        name, url = await _scratch_postgres(postgres)
        try:
            results.append(await measure(url, "PostgreSQL", count))
        finally:
            await _drop_postgres(postgres, name)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 mentions: proves it runs")
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument(
        "--postgres",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        help="an admin URL to create a scratch database on ('' to skip PostgreSQL)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    count = WARM_UP + (1_000 if args.quick else args.mentions)
    results = asyncio.run(run(count, args.postgres or None))
    print("| database | mentions | pipeline (mentions/s) | plain inserts (mentions/s) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        rates = f"{r.pipeline_per_s:.0f} | {r.baseline_per_s:.0f} | {r.ratio:.2f}"
        print(f"| {r.database} | {r.mentions} | {rates} |")
    if args.json:
        args.json.write_text(
            json.dumps([{**asdict(r), "ratio": r.ratio} for r in results], indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
