"""The baseline: a bare bolt AsyncApp that only acks slash commands, on aiohttp.

Mounted through the same translation functions chatops uses, so the comparison measures
what chatops adds, not a different web stack.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build(signing_secret: str, token: str, base_url: str) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token=token, base_url=base_url), signing_secret=signing_secret
    )

    @bolt.command("/post")
    async def ack_only(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args()
    app = build(args.signing_secret, args.token, args.base_url)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
