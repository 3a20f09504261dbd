"""Listening per account: every mention knows the network and the account it was addressed
to, rules filter on both, alert cards name both, and a reply goes from that account."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from adapters.chat.web.app import build_web_app
from adapters.social.sandbox.feed import mention_from_json
from adapters.social.x.config import XAccountConfig
from adapters.social.x.limits import EndpointLimits
from adapters.social.x.network import XNetwork
from chatops.domain.types import Actor, ChannelRef, Draft, Mention, MentionAuthor
from chatops.listening.backtest import backtest
from chatops.listening.pollers import SearchPollers, addressed_account
from chatops.listening.rules import (
    Facts,
    Field,
    RuleError,
    evaluate,
    format_rule,
    parse_rule,
    search_query,
)
from chatops.networks import Connection
from chatops.storage.mentions import MentionStore
from tests.conftest import START
from tests.fakes.x import FIRST_SNOWFLAKE, FakeX
from tests.slack_harness import AUTHOR, CHANNEL, TEAM, block_text, eventually
from tests.test_x import on_x

_ids = itertools.count(1)


def heard(
    text: str,
    *,
    network: str = "sandbox",
    account: str = "",
    minutes_ago: float = 0,
) -> Mention:
    number = next(_ids)
    return Mention(
        network=network,
        external_id=f"acc-{number}",
        url=f"https://sandbox.invalid/resident{number}/status/acc-{number}",
        author=MentionAuthor(handle=f"resident{number}", followers=100),
        text=text,
        created_at=START - timedelta(minutes=minutes_ago),
        account=account,
    )


def facts(*, network: str = "x", kind: str = "x", account: str = "") -> Facts:
    return Facts("flood on main st", "someone", "en", "neutral", False, 50, network, kind, account)


async def reply_targets(chat, draft_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    draft: Draft = await chat.service.core.workflow.get(draft_id)
    return [(t.network, t.account) for t in draft.targets]


# --- The rule fields ------------------------------------------------------------------------


def test_network_and_account_parse_normalised_and_format_back() -> None:
    rule = parse_rule("flood network:Sandbox-Mastodon account:@PortAlderWater")
    assert Field("network", "sandbox-mastodon") in rule.query.children  # type: ignore[union-attr]
    assert Field("account", "portalderwater") in rule.query.children  # type: ignore[union-attr]
    canonical = format_rule(rule)
    assert canonical == "flood network:sandbox-mastodon account:portalderwater"
    assert parse_rule(canonical) == rule
    assert parse_rule("account:PortAlderWater") == parse_rule("account:@portalderwater")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("flood network:", 6, "network: needs a network's name or kind, e.g. network:x"),
        ("network:ma$todon", 0, "network: needs a network's name or kind"),
        ("flood account:", 6, "account: needs one of the agency's account handles"),
        ("account:@", 0, "account: needs one of the agency's account handles"),
        (
            "acount:PortAlderWater",
            0,
            "fields are from:, lang:, is:, sentiment:, network:, account:",
        ),
    ],
)
def test_network_and_account_errors_say_what_to_write(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    assert caught.value.position == position
    assert message in caught.value.message


def test_network_matches_the_name_or_the_kind() -> None:
    mastodon = facts(network="sandbox-mastodon", kind="mastodon")
    assert evaluate(parse_rule("flood network:mastodon"), mastodon) == ("flood", "network:mastodon")
    assert evaluate(parse_rule("flood network:sandbox-mastodon"), mastodon) is not None
    assert evaluate(parse_rule("flood network:x"), mastodon) is None
    assert evaluate(parse_rule("flood -network:mastodon"), mastodon) is None
    assert evaluate(parse_rule("flood network:x"), facts()) is not None


def test_account_matches_the_addressed_account_in_any_case() -> None:
    water = facts(account="portalderwater")
    assert evaluate(parse_rule("flood account:@PortAlderWater"), water) is not None
    assert evaluate(parse_rule("account:portalderwater"), water) == ("account:portalderwater",)
    assert evaluate(parse_rule("flood account:PortAlderCity"), water) is None
    assert evaluate(parse_rule("flood account:PortAlderCity"), facts(account="")) is None


def test_network_and_account_are_not_sent_to_the_search() -> None:
    rule = parse_rule("(flood OR outage) network:x account:PortAlderWater -network:mastodon")
    assert search_query(rule) == "flood OR outage"
    assert search_query(parse_rule("flood from:maria network:x")) == "flood from:maria"
    assert search_query(parse_rule("network:x account:PortAlderWater")) == ""


def test_the_backtest_filters_on_network_and_account() -> None:
    mentions = [
        heard("flood here", network="sandbox-mastodon", account="PortAlderWater"),
        heard("flood there", network="sandbox-x", account="PortAlderCity"),
        heard("flood again", network="sandbox-x", account="PortAlderWater"),
        heard("flood found by search", network="sandbox-bluesky"),
    ]
    kinds = {"sandbox-mastodon": "mastodon", "sandbox-x": "x", "sandbox-bluesky": "bluesky"}
    reports = backtest(
        mentions,
        ["flood network:mastodon", "flood account:@portalderwater", "flood network:sandbox-x"],
        network_kinds=kinds.__getitem__,
    )
    assert [(r.rule, r.matches) for r in reports] == [
        ("flood network:mastodon", 1),
        ("flood account:portalderwater", 2),
        ("flood network:sandbox-x", 2),
    ]
    with pytest.raises(RuleError, match="account: needs"):
        backtest(mentions, ["flood account:"])


# --- Where mentions are addressed -----------------------------------------------------------


def test_a_sandbox_feed_line_reads_or_infers_its_account() -> None:
    line = {
        "id": "sbx-9",
        "created_at": "2026-03-09T06:02:00Z",
        "author": {"handle": "maria"},
        "text": "@portalderwater @PortAlderCity brown water again",
    }
    assert mention_from_json(line).account == "PortAlderWater"  # the first named, as spelled
    assert mention_from_json({**line, "account": "@PortAlderOEM"}).account == "PortAlderOEM"
    assert mention_from_json({**line, "text": "brown water, @someone_else"}).account == ""
    assert addressed_account("cc @PortAlderWaterFan", ["PortAlderWater"]) == ""


async def test_the_service_rules_know_each_networks_kind(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(
        "/alerts subscribe network:x account:PortAlderWater",  # the sandbox follows X's rules
        "/alerts subscribe brown network:mastodon",
    )
    result = await chat.service.pipeline.ingest(
        [
            heard("@PortAlderWater brown water from the tap", account="PortAlderWater"),
            heard("@PortAlderCity brown water downtown", account="PortAlderCity"),
        ]
    )
    assert result.alerts == 1
    shown = await chat.tick()
    assert "brown water from the tap" in shown and "downtown" not in shown
    assert "To: @PortAlderWater on Sandbox" in shown
    assert "Why: matched network:x, account:portalderwater" in shown


@pytest.fixture
async def two_x_accounts():  # type: ignore[no-untyped-def]
    async with (
        FakeX() as city,
        FakeX(
            user_id="2000",
            username="PortAlderWater",
            name="Port Alder Water",
            first_id=FIRST_SNOWFLAKE + 10**12,
        ) as water,
    ):
        yield city, water


async def x_with_two_accounts(converse, city: FakeX, water: FakeX):  # type: ignore[no-untyped-def]
    """The console on X as @PortAlderCity, with @PortAlderWater connected as a second port
    of the same registry (the first account's settings, the second's own fake X)."""
    chat = await on_x(converse, city)
    water.clock = chat.clock.now
    service = chat.service
    second = XNetwork(
        XAccountConfig(
            prefix="X_WATER",
            handle="PortAlderWater",
            bearer_token=SecretStr(water.bearer_token),
            api_key=SecretStr(water.consumer_key),
            api_secret=SecretStr(water.consumer_secret),
            access_token=SecretStr(water.access_token),
            access_token_secret=SecretStr(water.access_token_secret),
            base_url=water.base_url,
            timeout=2,
        ),
        db=service.db,
        clock=chat.clock,
        backoff=0.01,
        limits=EndpointLimits(jitter=0),
    )
    await second.start()
    service.networks.connections = (*service.networks.connections, Connection(second))
    service.pollers.clear()
    service.add_network_pollers()
    return chat


async def test_mentions_of_two_x_accounts_are_stored_with_their_account_and_searched_once(
    converse, two_x_accounts
) -> None:
    city, water = two_x_accounts
    chat = await x_with_two_accounts(converse, city, water)
    await chat.say("/alerts subscribe flood", "/alerts subscribe flood min_score:0")
    pollers = chat.service.pollers
    assert [p.source for p, _ in pollers] == [
        "x:mentions",  # the first account's cursor keeps its name across the upgrade
        "x:searches",
        "x:@PortAlderWater:mentions",
    ]
    assert sum(isinstance(p, SearchPollers) for p, _ in pollers) == 1
    to_city = city.add_mention("@PortAlderCity flood on Main St", author="maria")
    to_water = water.add_mention("@PortAlderWater flood: brown water", author="lee")
    found = city.add_mention("flood in the park", author="sam", mentions_account=False)
    named = city.add_mention(
        "cc @portalderwater flood near the dam", author="kim", mentions_account=False
    )
    answered = city.add_mention(
        "flood still there?", author="ana", in_reply_to="1", mentions_account=False
    )
    for poller, _ in pollers:
        await poller.poll_once()

    async with chat.service.db.transaction() as session:
        store = MentionStore(session)
        accounts = {
            tweet: (stored.mention.network, stored.mention.account)
            for tweet in (to_city, to_water, found, named, answered)
            if (stored := await store.find("x", tweet)) is not None
        }
    assert accounts == {
        to_city: ("x", "PortAlderCity"),
        to_water: ("x", "PortAlderWater"),
        found: ("x", ""),
        named: ("x", "PortAlderWater"),  # named in the text, found by the city's search
        answered: ("x", "PortAlderCity"),  # a reply to the city, naming nobody
    }
    # Two rules, one distinct query, two accounts: one search, from the first account.
    assert len(city.requests_to("GET", "/2/tweets/search/recent")) == 1
    assert water.requests_to("GET", "/2/tweets/search/recent") == []
    assert len(water.requests_to("GET", "/2/users/2000/mentions")) == 1

    shown = await chat.tick()
    assert "To: @PortAlderWater on X" in shown
    assert "To: @PortAlderCity on X" in shown
    assert "To: Found by search on X; it names none of our accounts" in shown

    assert "Reply draft 1" in await chat.say(f"/reply {to_water} We are testing the mains now.")
    assert await reply_targets(chat, 1) == [("x", "PortAlderWater")]
    assert "Reply draft 2" in await chat.say(f"/reply {found} Thanks, crews are there.")
    assert await reply_targets(chat, 2) == [("x", "PortAlderCity")]  # the network's default


async def test_a_console_reply_to_a_mention_of_an_account_goes_from_that_account(
    converse,
) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe brown")
    water = mention_from_json(
        {
            "id": "sbx-w1",
            "created_at": "2026-11-20T14:59:00Z",
            "author": {"handle": "lee", "followers": 50},
            "text": "@PortAlderWater brown water from the tap, is it safe?",
        }
    )
    assert (await chat.service.pipeline.ingest([water])).alerts == 1
    shown = await chat.tick()
    assert "To: @PortAlderWater on Sandbox" in shown
    reference = shown.split("Reply with `/reply ", 1)[1].split(" ", 1)[0]
    assert "Reply draft 1" in await chat.say(f"/reply {reference} Please run the cold tap.")
    assert await reply_targets(chat, 1) == [("sandbox", "PortAlderWater")]


async def test_a_search_hit_naming_no_account_is_answered_from_the_default_account(
    converse,
) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe sinkhole")
    hit = heard("a sinkhole opened on Oak Ave")
    assert (await chat.service.pipeline.ingest([hit])).alerts == 1
    shown = await chat.tick()
    assert "To: Found by search on Sandbox; it names none of our accounts" in shown
    assert "Reply draft 1" in await chat.say(f"/reply {hit.external_id} Crews are on the way.")
    same_network = [a for a in chat.service.networks.accounts() if a.network == "sandbox"]
    default = next((a for a in same_network if a.default), same_network[0])
    assert await reply_targets(chat, 1) == [("sandbox", default.handle)]
    assert default.handle != "PortAlderWater"  # not merely any account


async def test_a_slack_alert_reply_goes_from_the_mentioned_account(slack) -> None:
    core = slack.service.core
    await core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "brown"
    )
    water = heard("@PortAlderWater brown water on Elm St", account="PortAlderWater")
    assert (await slack.service.pipeline.ingest([water])).alerts == 1
    assert await slack.service.delivery.deliver_pending() == 1
    [alert_post] = slack.card_posts()
    assert "To" in block_text(alert_post["blocks"])
    assert "@PortAlderWater on Sandbox" in block_text(alert_post["blocks"])

    await slack.click("alert_reply", "1", AUTHOR)
    await slack.fake.wait_for("views.open")
    await slack.submit("alert_reply_modal", {"alert_id": 1}, "We are flushing the mains.", AUTHOR)

    async def drafted() -> bool:
        try:
            await core.workflow.get(1)
        except Exception:
            return False
        return True

    await eventually(drafted)
    draft = await core.workflow.get(1)
    assert draft.reply_to_id == water.external_id
    assert [(t.network, t.account) for t in draft.targets] == [("sandbox", "PortAlderWater")]


async def test_healthz_names_the_source_of_the_stopped_poller(converse, two_x_accounts) -> None:
    city, water = two_x_accounts
    chat = await x_with_two_accounts(converse, city, water)
    water.unauthorized("/2/users/2000/mentions", times=5)
    for poller, _ in chat.service.pollers:
        await poller.poll_once()
    client = TestClient(TestServer(build_web_app(chat.service)))
    await client.start_server()
    try:
        body = await (await client.get("/healthz")).json()
    finally:
        await client.close()
    assert body["status"] == "degraded"
    assert body["checks"]["listening:x:@PortAlderWater:mentions"].startswith("stopped: ")
    assert not any(check in body["checks"] for check in ("listening:x", "listening:x:mentions"))
