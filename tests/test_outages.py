"""Outages: the service stays up, /healthz names what is degraded, and work resumes on
recovery with nothing lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.chat.web.app import build_web_app
from adapters.social.sandbox.feed import demo_feed
from chatops.domain.types import Actor, ChannelRef
from chatops.service import build_service
from chatops.storage.mentions import MentionStore
from tests.fakes.x import FakeX
from tests.harness import make_settings


async def until(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def health(client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    response = await client.get("/healthz")
    return response.status, await response.json()


async def test_x_down_for_a_while_is_reported_and_nothing_is_lost(database_url: str) -> None:
    async with FakeX() as fake:
        settings = make_settings(
            database_url,
            x_bearer_token=fake.bearer_token,
            x_api_key=fake.consumer_key,
            x_api_secret=fake.consumer_secret,
            x_access_token=fake.access_token,
            x_access_token_secret=fake.access_token_secret,
            x_api_base_url=fake.base_url,
            x_poll_seconds=0.1,
            worker_interval_seconds=0.1,
        )
        service = build_service(settings)
        await service.social.start()
        service.social.backoff = 0.01  # type: ignore[attr-defined]
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        workers = service.workers()
        running = asyncio.create_task(workers.run_forever())
        try:
            fake.add_mention("@PortAlderCity before the outage")
            fake.server_error("/2/users/1000/mentions", times=50)
            during = [fake.add_mention(f"@PortAlderCity during the outage {n}") for n in range(3)]

            async def degraded() -> bool:
                status, body = await health(client)
                return status == 200 and body["status"] == "degraded"

            await until(degraded)
            _, body = await health(client)
            assert body["checks"]["poller:x:mentions"].startswith("failing: TwitterServerError")
            assert body["checks"]["database"] == "ok"

            async def recovered() -> bool:
                return (await health(client))[1]["status"] == "ok"

            await until(recovered, within=30)
            async with service.db.transaction() as session:
                store = MentionStore(session)
                for tweet_id in during:
                    assert await store.find("x", tweet_id) is not None
            assert len(fake.requests_to("GET", "/2/users/1000/mentions")) > 50
        finally:
            workers.stop()
            await running
            await client.close()
            await service.close()


async def test_slack_failing_is_reported_and_the_alert_is_delivered_once(slack) -> None:
    service = slack.service
    client = slack.client
    await service.core.subscriptions.subscribe(
        Actor("slack", "U1"), ChannelRef("slack", "C0001", "T0001"), "trapped"
    )
    mention = next(m for m in demo_feed() if "trapped" in m.text.lower())
    await service.pipeline.ingest([mention])
    slack.fake.fail("chat.postMessage", "fatal_error", times=2)
    assert await service.delivery.deliver_pending() == 0
    status, body = await health(client)
    assert status == 200 and body["status"] == "degraded"
    assert "cannot post alerts" in body["checks"]["chat:slack"]
    assert await service.delivery.deliver_pending() == 0
    assert await service.delivery.deliver_pending() == 1
    assert (await health(client))[1]["status"] == "ok"
    delivered = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("blocks")]
    assert len(delivered) == 3  # two refused attempts, then exactly one card


async def test_an_unreachable_database_is_a_503_and_the_service_stays_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = build_service(make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"))
    client = TestClient(TestServer(build_web_app(service)))
    await client.start_server()
    try:
        for _ in range(2):
            status, body = await health(client)
            assert status == 503
            assert body["status"] == "degraded"
            assert body["checks"]["database"].startswith("unreachable")
    finally:
        await client.close()
        await service.close()
