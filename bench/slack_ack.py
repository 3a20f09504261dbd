"""Slack command ack latency: `chatops serve` against a bare bolt app that only acks.

Both servers run as their own processes on this machine, with a fake Slack Web API in a
third; the load generator sends signed `/post` slash commands open-loop at a fixed rate
(a request is sent on schedule whether or not earlier ones were answered, as Slack
does) and times each until its HTTP response. chatops does the full work of every
command (a draft in the database, a card posted, an ephemeral reply) after the ack.

    python -m bench.slack_ack            # 50, 200 and 500 requests/s, 10 s each
    python -m bench.slack_ack --quick    # proves it runs: 50 requests/s for 1 s
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.stats import percentile

SECRET = "bench-signing-secret"
TOKEN = "xoxb-test"
ROOT = Path(__file__).resolve().parents[1]
CHATOPS = str(Path(sys.executable).with_name("chatops"))


@dataclass(frozen=True)
class Result:
    server: str
    rate: int
    sent: int
    ok: int
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed_requests(count: int, response_url: str) -> list[tuple[bytes, dict[str, str]]]:
    """Bodies and headers made before the clock starts, so signing costs nothing timed."""
    stamp = str(int(time.time()))
    prepared = []
    for index in range(count):
        body = urlencode(
            {
                "team_id": "T0001",
                "channel_id": "C0001",
                "user_id": "UBENCH001",
                "user_name": "bench",
                "command": "/post",
                "text": f"Benchmark post {index}: Main St closed 8pm-6am, detour via Oak Ave.",
                "response_url": response_url,
                "trigger_id": f"t.{index}",
            }
        )
        digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest(),
        }
        prepared.append((body.encode(), headers))
    return prepared


async def load(url: str, rate: int, seconds: float, response_url: str) -> tuple[int, list[float]]:
    """Send `rate` requests a second for `seconds`; return (sent, latencies of 200s)."""
    count = max(1, int(rate * seconds))
    requests = signed_requests(count, response_url)
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append(time.perf_counter() - started)
            except aiohttp.ClientError:
                pass

        start = time.perf_counter()
        tasks = []
        for index, (body, headers) in enumerate(requests):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(body, headers)))
        await asyncio.gather(*tasks)
    return count, latencies


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port}")


def run(rates: list[int], seconds: float, database_url: str | None) -> list[Result]:
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        fake = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_slack_server"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(fake.wait)
        stack.callback(fake.stdin.close)  # type: ignore[union-attr]
        base_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        response_url = base_url.replace("/api/", "/response/bench")

        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "TEAMS_"))}
        env.update(
            DATABASE_URL=database_url or f"sqlite+aiosqlite:///{scratch}/bench.db",
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_BASE_URL=base_url,
            CHATOPS_APPROVERS="UAPPROVER",
            CHATOPS_LOG_LEVEL="WARNING",
        )
        subprocess.run([CHATOPS, "db", "upgrade"], env=env, check=True, capture_output=True)
        servers = {"bare bolt": free_port(), "chatops": free_port()}
        commands = {
            "bare bolt": [
                sys.executable,
                "-m",
                "bench.bare_bolt",
                "--port",
                str(servers["bare bolt"]),
                "--signing-secret",
                SECRET,
                "--token",
                TOKEN,
                "--base-url",
                base_url,
            ],
            "chatops": [CHATOPS, "serve", "--port", str(servers["chatops"])],
        }
        for name, command in commands.items():
            process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
            stack.callback(process.wait)
            stack.callback(process.terminate)
            wait_for_port(servers[name])

        results = []
        for rate in rates:
            for name, port in servers.items():
                url = f"http://127.0.0.1:{port}/slack/events"
                asyncio.run(load(url, min(rate, 50), 0.5, response_url))  # warm-up
                sent, latencies = asyncio.run(load(url, rate, seconds, response_url))
                results.append(
                    Result(
                        name,
                        rate,
                        sent,
                        len(latencies),
                        round(percentile(latencies, 0.50) * 1000, 2),
                        round(percentile(latencies, 0.99) * 1000, 2),
                    )
                )
                time.sleep(1)  # let chatops finish the work behind the acks
        return results


def table(results: list[Result]) -> str:
    lines = [
        "| rate (req/s) | server | acked | p50 (ms) | p99 (ms) | p99 vs bare bolt |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    bare = {r.rate: r for r in results if r.server == "bare bolt"}
    for result in results:
        ratio = result.p99_ms / bare[result.rate].p99_ms if result.rate in bare else float("nan")
        lines.append(
            f"| {result.rate} | {result.server} | {result.ok}/{result.sent} | "
            f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="50 requests/s for 1 s: proves it runs"
    )
    parser.add_argument(
        "--rates", default="50,200,500", help="requests per second, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    rates = [50] if args.quick else [int(r) for r in args.rates.split(",")]
    seconds = 1.0 if args.quick else args.seconds
    results = run(rates, seconds, args.database_url)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
