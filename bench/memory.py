"""Resident memory of the bot with every adapter configured (Slack over HTTP, Teams, X),
idle and after sustained load: two rounds of 10,000 mentions (scored, routed to a subscribed
channel, alerts delivered) and 500 drafts (through the command registry, cards posted).
Bounded growth shows as the second round adding little to the first.

The service runs in this process, as `chatops serve` builds it, so /proc/self tells its
resident set; the fake Slack and X servers it talks to run here too and are included.

    python -m bench.memory            # 10,000 mentions and 500 drafts per round
    python -m bench.memory --quick    # 1,000 and 50: proves it runs
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.chat.slack.chat import PLATFORM as SLACK
from adapters.chat.web.app import build_web_app
from adapters.social.sandbox.feed import demo_feed
from chatops.chat.interaction import Invocation
from chatops.domain.types import Actor, ChannelRef
from chatops.runtime.logs import configure_logging
from chatops.runtime.settings import Settings
from chatops.service import build_service
from chatops.storage.database import Database
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX

CHANNEL = ChannelRef(SLACK, "C0001", "T0001")


@dataclass(frozen=True)
class Memory:
    mentions_per_round: int
    drafts_per_round: int
    idle_mib: float
    after_round_1_mib: float
    after_round_2_mib: float

    @property
    def growth_round_2_mib(self) -> float:
        return round(self.after_round_2_mib - self.after_round_1_mib, 1)


def rss_mib() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


async def measure(mentions: int, drafts: int) -> Memory:
    feed = demo_feed()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/memory.db"
        db = Database(url)
        await db.upgrade()
        await db.dispose()
        async with FakeX() as x, FakeSlack() as slack:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=url,
                slack_bot_token=slack.bot_token,
                slack_signing_secret="bench",
                slack_api_base_url=slack.base_url,
                teams_enabled=True,
                teams_allow_anonymous=True,
                x_bearer_token=x.bearer_token,
                x_api_key=x.consumer_key,
                x_api_secret=x.consumer_secret,
                x_access_token=x.access_token,
                x_access_token_secret=x.access_token_secret,
                x_api_base_url=x.base_url,
                alerts_per_minute=1_000_000,
            )
            service = build_service(settings)
            build_web_app(service)  # every route mounted, as `chatops serve` does
            await service.start_integrations(listen=False)
            gc.freeze()
            idle = rss_mib()
            author = Actor(SLACK, "UBENCH", "bench", CHANNEL.channel_id, CHANNEL.workspace_id)
            await service.core.subscriptions.subscribe(author, CHANNEL, "flood OR closed OR outage")
            context = service.context(service.slack.chat)  # type: ignore[union-attr]
            rounds = []
            start = datetime.now(UTC)
            for round_number in (1, 2):
                batch = []
                for n in range(mentions):
                    base = feed[n % len(feed)]
                    batch.append(
                        replace(
                            base,
                            network="x",
                            external_id=f"{round_number}-{n}",
                            created_at=start + timedelta(seconds=n),
                        )
                    )
                    if len(batch) == 100:
                        await service.pipeline.ingest(batch)
                        await service.delivery.deliver_pending(limit=200)
                        batch = []
                for n in range(drafts):
                    invocation = Invocation(
                        author, CHANNEL, "post", f"Round {round_number}, draft {n}."
                    )
                    await service.registry.dispatch(context, invocation)
                slack.calls.clear()  # the fake's own record of calls is not the bot's memory
                rounds.append(rss_mib())
            await service.stop_integrations()
            await service.close()
    return Memory(mentions, drafts, idle, rounds[0], rounds[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 mentions and 50 drafts")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    mentions, drafts = (1_000, 50) if args.quick else (10_000, 500)
    figures = asyncio.run(measure(mentions, drafts))
    print("| state | resident memory (MiB) |")
    print("| --- | --- |")
    print(f"| idle, Slack + Teams + X configured | {figures.idle_mib} |")
    print(f"| after {mentions:,} mentions and {drafts} drafts | {figures.after_round_1_mib} |")
    second = f"{figures.after_round_2_mib} (+{figures.growth_round_2_mib})"
    print(f"| after another {mentions:,} and {drafts} | {second} |")
    if args.json:
        data = {**asdict(figures), "growth_round_2_mib": figures.growth_round_2_mib}
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
