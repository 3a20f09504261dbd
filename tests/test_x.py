"""X through tweepy's real AsyncClient against the fake X API v2, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.chat.console.chat import CHANNEL
from adapters.social.x.limits import EndpointLimits
from adapters.social.x.network import XNetwork
from chatops.domain.types import SYSTEM_ACTOR, DraftState
from chatops.listening.pollers import MentionPoller
from chatops.storage.mentions import MentionStore
from tests.fakes.x import FakeX
from tests.slack_harness import SlackDriver, eventually

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
async def fake_x():  # type: ignore[no-untyped-def]
    async with FakeX() as fake:
        yield fake


def x_settings(fake: FakeX) -> dict[str, object]:
    return {
        "x_bearer_token": fake.bearer_token,
        "x_api_key": fake.consumer_key,
        "x_api_secret": fake.consumer_secret,
        "x_access_token": fake.access_token,
        "x_access_token_secret": fake.access_token_secret,
        "x_api_base_url": fake.base_url,
        "x_timeout_seconds": 2,
    }


async def on_x(converse, fake: FakeX, **extra: object):  # type: ignore[no-untyped-def]
    chat = await converse(user="alice", **{**x_settings(fake), **extra})
    fake.clock = chat.clock.now
    network = chat.service.social
    assert isinstance(network, XNetwork)
    network.backoff = 0.01
    network.limits = EndpointLimits(jitter=0)
    return chat


def poller(chat, batch: int = 100) -> MentionPoller:  # type: ignore[no-untyped-def]
    service = chat.service
    return MentionPoller(
        db=service.db,
        social=service.social,
        pipeline=service.pipeline,
        source="x:mentions",
        batch_size=batch,
        notifier=service.notifier,
    )


async def test_the_account_is_looked_up_once_and_stored(converse, fake_x) -> None:
    first = await on_x(converse, fake_x)
    assert first.service.social.accounts == ["PortAlderCity"]
    await first.close()
    again = await on_x(converse, fake_x)
    assert again.service.social.accounts == ["PortAlderCity"]
    assert len(fake_x.requests_to("GET", "/2/users/me")) == 1


async def test_first_poll_and_cursor_persistence_across_a_restart(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    await chat.say("/alerts subscribe flood, outage")
    ids = [
        fake_x.add_mention("@PortAlderCity flood on Main St", author="maria", followers=400),
        fake_x.add_mention("@PortAlderCity thanks for the update!", author="sam"),
        fake_x.add_mention("@PortAlderCity power outage in Eastgate?", author="lee", verified=True),
    ]
    result = await poller(chat).poll_once()
    assert (result.stored, result.alerts) == (3, 2)
    shown = await chat.tick()
    assert "Mention on X" in shown
    assert f"https://x.com/maria/status/{ids[0]}" in shown
    assert "400 followers" in shown
    request = fake_x.requests_to("GET", "/2/users/1000/mentions")[0]
    assert request.auth == "bearer"
    assert "author_id" in request.query["expansions"]
    assert "public_metrics" in request.query["user.fields"]
    assert "verified" in request.query["user.fields"]
    await chat.close()

    restarted = await on_x(converse, fake_x)
    newer = fake_x.add_mention("@PortAlderCity flood again near the pier", author="kim")
    again = await poller(restarted).poll_once()
    assert again.stored == 1
    assert fake_x.requests_to("GET", "/2/users/1000/mentions")[-1].query["since_id"] == ids[-1]
    async with restarted.service.db.transaction() as session:
        assert await MentionStore(session).cursor("x:mentions") == newer


async def test_a_burst_is_read_through_every_page(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    fake_x.add_mention("@PortAlderCity first")
    await poller(chat, batch=10).poll_once()
    burst = [fake_x.add_mention(f"@PortAlderCity burst {n}") for n in range(25)]
    result = await poller(chat, batch=10).poll_once()
    assert result.stored == 25
    pages = fake_x.requests_to("GET", "/2/users/1000/mentions")[1:]
    assert len(pages) == 3
    assert "pagination_token" in pages[1].query
    async with chat.service.db.transaction() as session:
        assert await MentionStore(session).cursor("x:mentions") == burst[-1]


async def test_a_429_waits_for_the_reset_without_a_herd(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    network = chat.service.social
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    network.limits = EndpointLimits(jitter=0, sleep=sleep)
    fake_x.add_mention("@PortAlderCity is the library open?")
    fake_x.rate_limit("/2/users/1000/mentions", reset_in=30)
    result = await poller(chat).poll_once()
    assert result.stored == 1
    assert len(slept) == 1 and 25 < slept[0] <= 31
    assert len(fake_x.requests_to("GET", "/2/users/1000/mentions")) == 2


async def test_a_closed_window_is_never_called_into_and_has_one_waiter() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    limits = EndpointLimits(jitter=0, sleep=sleep, now=lambda: 1000.0)
    limits.observe("mentions", {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1030"})
    await asyncio.gather(*(limits.wait("mentions") for _ in range(5)))
    assert slept == [30.0]  # one caller waited for the reset; the others queued behind it


async def test_5xx_backs_off_and_succeeds(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    fake_x.add_mention("@PortAlderCity trash pickup delayed?")
    fake_x.server_error("/2/users/1000/mentions", times=2)
    result = await poller(chat).poll_once()
    assert result.stored == 1
    assert len(fake_x.requests_to("GET", "/2/users/1000/mentions")) == 3


async def test_an_outage_loses_nothing(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    fake_x.add_mention("@PortAlderCity before the outage")
    await poller(chat).poll_once()
    during = fake_x.add_mention("@PortAlderCity during the outage")
    fake_x.server_error("/2/users/1000/mentions", times=5)  # every attempt of one poll
    with pytest.raises(Exception):  # noqa: B017 - any error: the poll failed
        await poller(chat).poll_once()
    result = await poller(chat).poll_once()
    assert result.stored == 1
    async with chat.service.db.transaction() as session:
        assert await MentionStore(session).find("x", during) is not None


async def test_401_stops_the_poller_and_names_the_credential(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    fake_x.unauthorized("/2/users/1000/mentions")
    listening = poller(chat)
    await listening.poll_once()
    assert listening.stopped
    shown = chat.out.getvalue()
    assert "[admin] Listening for x:mentions stopped: X_BEARER_TOKEN was refused" in shown
    before = len(fake_x.requests)
    await listening.poll_once()
    assert len(fake_x.requests) == before


async def test_saved_searches_relay_matches_that_do_not_mention_the_account(
    converse, fake_x
) -> None:
    chat = await on_x(converse, fake_x)
    await chat.say('/alerts subscribe flood, "boil water"')
    fake_x.add_mention("Is there a boil water notice in Port Alder?", mentions_account=False)
    fake_x.add_mention("nice weather today", mentions_account=False)
    searches = chat.service.pollers[1][0]
    result = await searches.poll_once()
    assert (result.stored, result.alerts) == (1, 1)
    [request] = fake_x.requests_to("GET", "/2/tweets/search/recent")
    assert request.query["query"] == 'flood OR "boil water"'


async def test_publish_a_post_and_a_reply(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    said = await chat.say("/post Sandbags at Pier 3 until 8pm.", "/as bob", "/social approve 1")
    assert "State: Published" in said
    [post] = fake_x.posts()
    assert post["text"] == "Sandbags at Pier 3 until 8pm."
    draft = await chat.service.core.workflow.get(1)
    assert draft.published_url == f"https://x.com/PortAlderCity/status/{post['id']}"
    assert fake_x.requests_to("POST", "/2/tweets")[0].auth == "oauth1"

    mention = fake_x.add_mention("@PortAlderCity where are sandbags?", author="maria")
    await chat.say("/as alice", f"/reply https://x.com/maria/status/{mention} At Pier 3 until 8pm.")
    await chat.say("/as bob", "/social approve 2")
    reply = fake_x.posts()[1]
    assert reply["in_reply_to"] == mention
    assert (await chat.service.core.workflow.get(2)).state is DraftState.PUBLISHED


async def test_media_is_uploaded_with_its_alt_text(converse, fake_x) -> None:
    app = web.Application()

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    app.router.add_get("/detour.png", image)
    server = TestServer(app)
    await server.start_server()
    try:
        chat = await on_x(converse, fake_x, image_private_networks=("127.0.0.1/32",))
        url = str(server.make_url("/detour.png"))
        await chat.say(f'/post --image {url} --alt "Map of the Oak Ave detour" Detour tonight.')
        said = await chat.say("/as bob", "/social approve 1")
        assert "State: Published" in said
        [post] = fake_x.posts()
        [media_id] = post["media_ids"]
        assert fake_x.media[media_id]["alt_text"] == "Map of the Oak Ave detour"
        assert fake_x.media[media_id]["bytes"] == len(PNG)
    finally:
        await server.close()


async def test_a_dropped_connection_after_accepting_publishes_exactly_once(
    converse, fake_x
) -> None:
    chat = await on_x(converse, fake_x)
    fake_x.drop_after_accepting()
    said = await chat.say(
        "/post Boil water notice lifted for Eastgate.", "/as bob", "/social approve 1"
    )
    assert "State: Publishing" in said
    assert len(fake_x.posts()) == 1
    chat.clock.advance(timedelta(seconds=3))
    published = await chat.tick()
    assert "State: Published" in published
    assert len(fake_x.posts()) == 1
    assert len(fake_x.requests_to("POST", "/2/tweets")) == 1
    assert fake_x.requests_to("GET", "/2/users/1000/tweets")
    draft = await chat.service.core.workflow.get(1)
    assert draft.published_id == fake_x.posts()[0]["id"]


async def test_duplicate_content_of_an_older_post_fails_clearly(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    await chat.say("/post Library closed Monday.", "/as bob", "/social approve 1")
    await chat.say("/as alice", "/post Library closed Monday.")
    chat.clock.advance(timedelta(days=3))
    said = await chat.say("/as bob", "/social approve 2")
    assert "State: Publication failed" in said
    assert "duplicate of an older post" in said
    assert len(fake_x.posts()) == 1


async def test_a_draft_that_is_not_approved_is_never_sent(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    await chat.say("/post Not yet.", "/post Cancelled.", "/social cancel 2")
    chat.clock.advance(timedelta(days=1))
    await chat.tick()
    await chat.service.publisher.run_once()
    assert fake_x.requests_to("POST", "/2/tweets") == []


async def test_doctor_names_the_credential_that_fails(fake_x) -> None:
    from adapters.social.x.doctor import check_x
    from tests.harness import make_settings

    good = await check_x(make_settings("sqlite+aiosqlite:///unused.db", **x_settings(fake_x)))
    assert all(ok for ok, _ in good)
    assert any("posting as @PortAlderCity" in line for _, line in good)
    bad_settings = {**x_settings(fake_x), "x_bearer_token": "wrong-bearer"}
    bad = await check_x(make_settings("sqlite+aiosqlite:///unused.db", **bad_settings))
    assert (False, "X: X_BEARER_TOKEN was refused (HTTP 401)") in bad


async def test_a_slow_answer_times_out_and_still_publishes_once(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x, x_timeout_seconds=0.3)
    fake_x.slow("/2/tweets", seconds=1.0)
    said = await chat.say("/post Ferry service resumes at noon.", "/as bob", "/social approve 1")
    assert "trying again" in said
    await asyncio.sleep(1.0)  # let the slow answer finish on the fake's side
    chat.clock.advance(timedelta(seconds=3))
    assert "State: Published" in await chat.tick()
    assert [p["text"] for p in fake_x.posts()] == ["Ferry service resumes at noon."]


async def test_an_approval_wakes_the_publisher_at_once(converse) -> None:
    from chatops.runtime.workers import Workers

    chat = await converse(user="alice", worker_interval_seconds=60)
    await chat.say("/post Wake up.")
    workers: Workers = chat.service.workers()
    running = asyncio.create_task(workers.run_forever())
    try:
        await asyncio.sleep(0.2)  # the publisher ran once and now sleeps its 60 s beat
        await chat.say("/as bob", "/social approve 1")
        for _ in range(100):
            if await chat.service.social.posts():
                break
            await asyncio.sleep(0.02)
        assert len(await chat.service.social.posts()) == 1
    finally:
        workers.stop()
        await running


async def test_channels_with_the_same_rule_share_one_search_per_poll(
    fake_slack, database_url, fake_x
) -> None:
    """Each search costs X quota: two channels asking the same thing cost one request, and
    both channels still get the alert."""

    slack = await SlackDriver.start(fake_slack, database_url, **x_settings(fake_x))
    try:
        commands = [("C0001", "flood"), ("C0002", "flood"), ("C0002", "boil water")]
        for count, (channel, rule) in enumerate(commands, start=1):
            await slack.command("/alerts", f"subscribe {rule}", channel_id=channel)

            async def subscribed(count: int = count) -> bool:
                held = await slack.service.core.subscriptions.of_workspace("slack", "T0001")
                return len(held) == count

            await eventually(subscribed)
        fake_x.add_mention("Flood on Main St, is it closed?", mentions_account=False)
        searches = slack.service.pollers[1][0]
        result = await searches.poll_once()
        queries = [r.query["query"] for r in fake_x.requests_to("GET", "/2/tweets/search/recent")]
        assert sorted(queries) == ["boil water", "flood"]
        assert (result.stored, result.alerts) == (1, 2)
        await searches.poll_once()  # each query resumes from its own cursor
        again = [r.query for r in fake_x.requests_to("GET", "/2/tweets/search/recent")][2:]
        assert sorted(q["query"] for q in again) == ["boil water", "flood"]
        assert all("since_id" in q for q in again if q["query"] == "flood")
    finally:
        await slack.close()


async def test_a_channel_holds_at_most_the_configured_number_of_subscriptions(
    converse, fake_x
) -> None:
    chat = await on_x(converse, fake_x, subscriptions_per_channel=3)
    for word in ("flood", "storm", "outage"):
        assert "Subscribed" in await chat.say(f"/alerts subscribe {word}")
    refused = await chat.say("/alerts subscribe sandbags")
    assert "already has 3 subscriptions, the most a channel can have (3)" in refused
    assert "/alerts unsubscribe ID" in refused
    assert len(await chat.service.core.subscriptions.of_workspace("console", "")) == 3
    await chat.say("/alerts unsubscribe 1")
    assert "Subscribed" in await chat.say("/alerts subscribe sandbags")


async def test_the_twenty_first_subscription_is_refused_by_default(converse, fake_x) -> None:
    chat = await on_x(converse, fake_x)
    for number in range(20):
        await chat.say(f"/alerts subscribe word{number}")
    refused = await chat.say("/alerts subscribe word20")
    assert "already has 20 subscriptions, the most a channel can have (20)" in refused


async def test_looking_a_mention_up_on_x_does_not_hold_the_database(converse, fake_x) -> None:
    """Before: `/reply LINK` held a write transaction while it asked X, so on SQLite every
    other writer (pollers, approvals, alert delivery) waited out X's latency and retries."""
    chat = await on_x(converse, fake_x, x_timeout_seconds=10)
    mention = fake_x.add_mention("@PortAlderCity where are sandbags?", author="maria")
    fake_x.slow(f"/2/tweets/{mention}", seconds=4)
    reply = asyncio.create_task(
        chat.say(f"/reply https://x.com/maria/status/{mention} At Pier 3 until 8pm.")
    )
    for _ in range(200):
        if fake_x.requests_to("GET", f"/2/tweets/{mention}") or reply.done():
            break
        await asyncio.sleep(0.02)
    assert not reply.done() and fake_x.requests_to("GET", f"/2/tweets/{mention}")
    # X is still answering; another writer gets the database at once, not after 4 s.
    subscribed = chat.service.core.subscriptions.subscribe(SYSTEM_ACTOR, CHANNEL, "sandbags")
    await asyncio.wait_for(subscribed, timeout=2)
    assert not reply.done()
    assert "Reply draft 1" in await reply
