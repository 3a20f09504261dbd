"""Mention-to-alert and approval-to-publication latency against the fake X API.

The bot's own workers run as `chatops worker` runs them (pollers, publisher, alert
delivery), with X_POLL_SECONDS set low; a chat platform that timestamps what it is given
stands in for Slack. The fake X API serves a new mention at a random moment and the clock
runs until the alert card has been delivered; for publication it runs from the approval
until the card shows the live post.

    python -m bench.x_latency            # 40 mentions and 40 publications
    python -m bench.x_latency --quick    # 5 of each: proves it runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.stats import percentile
from chatops.chat.cards import Card
from chatops.domain.types import Actor, ChannelRef, MessageRef, Via
from chatops.drafts.workflow import NewDraft
from chatops.runtime.logs import configure_logging
from chatops.runtime.settings import Settings
from chatops.service import build_service
from chatops.storage.database import Database
from tests.fakes.x import FakeX

CHANNEL = ChannelRef("bench", "C1")


class TimestampingChat:
    """A chat platform that notes when each card arrived, for the benchmark's stopwatch."""

    platform = "bench"

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.published: dict[int, float] = {}
        self._ids = 0

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef:
        self._ids += 1
        if card.kind == "alert":
            self.arrivals[card.body] = time.perf_counter()
        return MessageRef(channel, str(self._ids))

    async def update_card(self, ref: MessageRef, card: Card) -> None:
        if card.kind == "draft" and card.link:
            self.published.setdefault(card.subject_id, time.perf_counter())

    async def post_message(
        self, channel: ChannelRef, text: str, *, thread: MessageRef | None = None
    ) -> MessageRef:
        return MessageRef(channel, "thread")

    async def warn_admins(self, workspace_id: str, text: str) -> None:
        print(f"admin warning: {text}", file=sys.stderr)


@dataclass(frozen=True)
class Figures:
    poll_seconds: float
    worker_interval: float
    mentions: int
    mention_to_alert_p50_s: float
    mention_to_alert_p95_s: float
    publications: int
    approval_to_published_p50_s: float
    approval_to_published_p95_s: float


async def measure(count: int, poll: float, beat: float, database_url: str) -> Figures:
    async with FakeX() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            x_bearer_token=fake.bearer_token,
            x_api_key=fake.consumer_key,
            x_api_secret=fake.consumer_secret,
            x_access_token=fake.access_token,
            x_access_token_secret=fake.access_token_secret,
            x_api_base_url=fake.base_url,
            x_poll_seconds=poll,
            worker_interval_seconds=beat,
            approvers=("bench-approver",),
            # Every mention must arrive as its own alert: the per-minute cap that folds a
            # burst into a digest would stop the stopwatch, so it is lifted here.
            alerts_per_minute=10_000,
        )
        db = Database(database_url)
        await db.upgrade()
        await db.dispose()
        service = build_service(settings)
        chat = TimestampingChat()
        service.context(chat)  # type: ignore[arg-type]
        await service.start_integrations(listen=False)
        author = Actor("bench", "bench-author")
        await service.core.subscriptions.subscribe(author, CHANNEL, "flood")
        workers = service.workers()
        running = asyncio.create_task(workers.run_forever())
        try:
            sent: dict[str, float] = {}
            for number in range(count):
                await asyncio.sleep(random.uniform(0, poll))
                text = f"@PortAlderCity flood report {number} on Main St"
                fake.add_mention(text, author=f"resident{number}")
                sent[text] = time.perf_counter()
            await _until(lambda: len(chat.arrivals) >= count, within=poll * 4 + count)
            alert_latency = [chat.arrivals[text] - at for text, at in sent.items()]

            approved: dict[int, float] = {}
            for number in range(count):
                draft = await service.core.workflow.create(
                    author, CHANNEL, NewDraft(text=f"Update {number}: sandbags at Pier 3.")
                )
                await service.core.workflow.attach_card(
                    draft.id, MessageRef(CHANNEL, f"d{draft.id}"), revision=draft.revision
                )
                await asyncio.sleep(random.uniform(0, beat))
                approved[draft.id] = time.perf_counter()
                await service.core.workflow.approve(
                    Actor("bench", "bench-approver"), draft.id, Via.BUTTON, seen_revision=1
                )
            await _until(lambda: len(chat.published) >= count, within=beat * 4 + count)
            publish_latency = [chat.published[i] - at for i, at in approved.items()]
        finally:
            workers.stop()
            await running
            await service.stop_integrations()
            await service.close()
    return Figures(
        poll_seconds=poll,
        worker_interval=beat,
        mentions=count,
        mention_to_alert_p50_s=round(percentile(alert_latency, 0.5), 3),
        mention_to_alert_p95_s=round(percentile(alert_latency, 0.95), 3),
        publications=count,
        approval_to_published_p50_s=round(percentile(publish_latency, 0.5), 3),
        approval_to_published_p95_s=round(percentile(publish_latency, 0.95), 3),
    )


async def _until(done: object, *, within: float) -> None:
    deadline = time.monotonic() + within
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish in time")
        await asyncio.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 of each: proves it runs")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--poll-seconds", type=float, default=2.0)
    parser.add_argument(
        "--worker-interval", type=float, default=1.0, help="CHATOPS_WORKER_INTERVAL"
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    count = 5 if args.quick else args.count
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        figures = asyncio.run(measure(count, args.poll_seconds, args.worker_interval, url))
    print("| measure | p50 (s) | p95 (s) | target |")
    print("| --- | --- | --- | --- |")
    print(
        f"| mention to alert (poll every {figures.poll_seconds:g} s) | "
        f"{figures.mention_to_alert_p50_s} | {figures.mention_to_alert_p95_s} | "
        f"< poll interval + 1 s = {figures.poll_seconds + 1:g} s |"
    )
    print(
        f"| approval to published (worker beat {figures.worker_interval:g} s) | "
        f"{figures.approval_to_published_p50_s} | {figures.approval_to_published_p95_s} | "
        "p95 < 1 s + the network's latency |"
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
