"""Resident memory of `chatops serve` with every adapter configured (Slack over HTTP, Teams,
X), idle and after sustained load: two rounds of 10,000 mentions (polled from the fake X
API, scored, routed to a subscribed Slack channel) and 500 drafts (signed Slack `/post`
commands). Bounded growth shows as the second round adding little to the first.

    python -m bench.memory            # 10,000 mentions and 500 drafts per round
    python -m bench.memory --quick    # 1,000 and 50: proves it runs
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func, select

from bench.slack_ack import free_port
from chatops.storage.database import Database
from chatops.storage.tables import DraftRow, MentionRow
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX

CHATOPS = str(Path(sys.executable).with_name("chatops"))
SECRET = "bench-signing-secret"


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


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


async def count(db: Database, table: type[MentionRow] | type[DraftRow]) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def slash_post(http: aiohttp.ClientSession, url: str, text: str, response_url: str) -> None:
    body = urlencode(
        {
            "team_id": "T0001",
            "channel_id": "C0001",
            "user_id": "UBENCH",
            "user_name": "bench",
            "command": "/post",
            "text": text,
            "response_url": response_url,
            "trigger_id": "t",
        }
    )
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()


async def measure(mentions: int, drafts: int) -> Memory:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/memory.db"
        db = Database(url)
        await db.upgrade()
        async with FakeX() as x, FakeSlack() as slack:
            port = free_port()
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
            }
            env.update(
                DATABASE_URL=url,
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_BASE_URL=slack.base_url,
                TEAMS_ENABLED="true",
                X_BEARER_TOKEN=x.bearer_token,
                X_API_KEY=x.consumer_key,
                X_API_SECRET=x.consumer_secret,
                X_ACCESS_TOKEN=x.access_token,
                X_ACCESS_TOKEN_SECRET=x.access_token_secret,
                X_API_BASE_URL=x.base_url,
                X_POLL_SECONDS="0.3",
                CHATOPS_LOG_LEVEL="WARNING",
                CHATOPS_ALERTS_PER_MINUTE="100000",
            )
            server = subprocess.Popen(
                [CHATOPS, "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                await _listening(port)
                await asyncio.sleep(2)
                idle = rss_mib(server.pid)
                events = f"http://127.0.0.1:{port}/slack/events"
                async with aiohttp.ClientSession() as http:
                    await slash_post(http, events, "", slack.response_url())  # warm the path
                    await slash_post_subscribe(http, events, slack.response_url())
                    rounds = []
                    for round_number in (1, 2):
                        for n in range(mentions):
                            x.add_mention(
                                f"@PortAlderCity flood report {round_number}-{n} on Marsh Lane"
                            )
                        for n in range(drafts):
                            await slash_post(
                                http,
                                events,
                                f"Round {round_number} draft {n}",
                                slack.response_url(),
                            )
                        target_mentions = mentions * round_number
                        target_drafts = drafts * round_number
                        deadline = time.monotonic() + 600
                        while time.monotonic() < deadline and (
                            await count(db, MentionRow) < target_mentions
                            or await count(db, DraftRow) < target_drafts
                        ):
                            await asyncio.sleep(0.5)
                        await asyncio.sleep(2)
                        rounds.append(rss_mib(server.pid))
            finally:
                server.terminate()
                server.wait(timeout=30)
        await db.dispose()
    return Memory(mentions, drafts, idle, rounds[0], rounds[1])


async def slash_post_subscribe(http: aiohttp.ClientSession, url: str, response_url: str) -> None:
    body = urlencode(
        {
            "team_id": "T0001",
            "channel_id": "C0001",
            "user_id": "UBENCH",
            "user_name": "bench",
            "command": "/alerts",
            "text": "subscribe flood",
            "response_url": response_url,
            "trigger_id": "t",
        }
    )
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()


async def _listening(port: int) -> None:
    """Wait without blocking: the fake APIs serve the starting server from this loop."""
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"chatops serve did not listen on {port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 mentions and 50 drafts")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
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
