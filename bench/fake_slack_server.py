"""Runs the tests' fake Slack Web API as its own process, so it does not share a CPU
loop with the load generator."""

from __future__ import annotations

import asyncio
import sys

from tests.fakes.slack import FakeSlack


async def serve() -> None:
    async with FakeSlack() as fake:
        print(fake.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve())
