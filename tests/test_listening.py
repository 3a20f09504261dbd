"""The mention → alert loop: stored once, routed once per channel, cursors survive restarts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from adapters.chat.console.chat import CHANNEL
from adapters.social.sandbox.feed import CITY_ACCOUNTS, demo_feed
from chatops.domain.types import Actor, ChannelRef, Mention
from chatops.service import DEMO_SOURCE
from chatops.storage.mentions import MentionStore
from chatops.storage.tables import AlertRow
from tests.test_listening_trust import mention


async def test_subscribe_list_unsubscribe(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say('/alerts subscribe flood, "road closure"')
    assert "Subscribed (id 1)" in said
    assert 'Rule: flood OR "road closure"' in said
    listing = await chat.say("/alerts list")
    assert '1: flood OR "road closure" (by alice; 0 alert(s) in the last 24 h)' in listing
    assert "has no subscription 7" in await chat.say("/alerts unsubscribe 7")
    assert "Unsubscribed 1" in await chat.say("/alerts unsubscribe 1")
    assert "no subscriptions" in await chat.say("/alerts list")
    assert "needs a rule" in await chat.say("/alerts subscribe")


def _residents() -> list[Mention]:
    """The demo feed without the agency's own posts, which are never alerts."""
    return [m for m in demo_feed() if m.author.handle not in CITY_ACCOUNTS]


def _root(mention) -> str:  # type: ignore[no-untyped-def]
    if mention.kind in ("repost", "quote") and mention.refers_to:
        return mention.refers_to
    return mention.external_id


async def test_demo_poll_relays_matches_once_per_channel_collapses_reposts_and_caps(
    converse,
) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe flood, flooding", '/alerts subscribe "sandbags", flood')
    poller = chat.service.add_demo_poller(interval=1, batch_size=500)
    result = await poller.poll_once()
    feed = demo_feed()
    assert result.stored == len(feed)
    pattern = re.compile(r"(?<!\w)(flood|flooding|sandbags)(?!\w)")
    matching = [m for m in _residents() if pattern.search(m.text.lower())]
    roots = {_root(m) for m in matching}
    assert result.alerts == len(roots)
    assert result.collapsed == len(matching) - len(roots) > 0
    cap = chat.service.settings.alerts_per_minute
    assert result.held == len(roots) - cap
    shown = await chat.tick()
    assert shown.count("on Sandbox [SANDBOX]") == cap
    assert f"{len(roots) - cap} alert(s) held by this channel's cap of {cap} a minute" in shown
    assert "Why: matched flood" in shown
    assert "Score: " in shown
    # A second poll finds nothing new; nothing is relayed twice.
    again = await poller.poll_once()
    assert again.stored == 0
    assert await chat.tick() == ""
    # The held ones follow as the cap allows, and then nothing more.
    later = ""
    for _ in range(len(roots) // cap + 1):
        chat.clock.advance(timedelta(minutes=1))
        later += await chat.tick()
    assert later.count("on Sandbox [SANDBOX]") == len(roots) - cap
    chat.clock.advance(timedelta(minutes=1))
    assert await chat.tick() == ""


async def test_cursor_survives_a_restart(converse, database_url) -> None:
    first = await converse(user="alice")
    await first.say("/alerts subscribe flood")
    poller = first.service.add_demo_poller(interval=1, batch_size=20)
    await poller.poll_once()
    async with first.service.db.transaction() as session:
        assert await MentionStore(session).cursor(DEMO_SOURCE) == "20"
    await first.close()

    second = await converse(user="alice")
    poller = second.service.add_demo_poller(interval=1, batch_size=20)
    result = await poller.poll_once()
    assert result.stored == 20  # mentions 21-40, none repeated
    async with second.service.db.transaction() as session:
        assert await MentionStore(session).cursor(DEMO_SOURCE) == "40"


async def test_the_same_mention_ingested_twice_is_stored_once(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe flood")
    mention = next(m for m in _residents() if "flood" in m.text.lower())
    pipeline = chat.service.pipeline
    first = await pipeline.ingest([mention, mention])
    second = await pipeline.ingest([replace(mention, text=mention.text + " (edited)")])
    assert (first.stored, first.alerts) == (1, 1)
    assert (second.stored, second.alerts) == (0, 0)


async def test_the_agencys_own_post_is_stored_but_never_an_open_question(converse) -> None:
    """The agency's accounts appear in its own mentions (one account naming another, on X
    as in the demo); such a post is not a resident's question waiting for a reply."""
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe sandbags")
    text = "@PortAlderCity are sandbags still available at Pier 3?"
    own = [
        mention(chat, text, handle="PortAlderWater"),
        mention(chat, text, handle="portaldercity"),  # handles compare without case
    ]
    resident = mention(chat, text)
    result = await chat.service.pipeline.ingest([*own, resident])
    assert (result.stored, result.alerts) == (3, 1)
    shown = await chat.tick()
    assert shown.count("Question on Sandbox") == 1
    assert f"/reply {resident.external_id} TEXT" in shown
    async with chat.service.db.transaction() as session:
        open_questions = (
            await session.scalars(
                select(AlertRow).where(AlertRow.is_question, AlertRow.state == "open")
            )
        ).all()
        stored = [await MentionStore(session).find("sandbox", m.external_id) for m in own]
    assert len(open_questions) == 1
    assert None not in stored  # stored, so replies and reposts can refer to them

    original = own[0].external_id
    reposts = [
        replace(mention(chat, f"RT @PortAlderWater: {text}"), kind="repost", refers_to=original)
        for _ in range(3)
    ]
    spread = await chat.service.pipeline.ingest(reposts)
    assert (spread.alerts, spread.collapsed) == (1, 2)  # residents spreading it: one alert


async def test_alert_for_another_platform_waits_for_that_platform(converse) -> None:
    chat = await converse(user="alice")
    await chat.service.core.subscriptions.subscribe(
        Actor("slack", "U1"), ChannelRef("slack", "C1", "T1"), "flood"
    )
    await chat.say("/alerts subscribe flood")
    mention = next(m for m in _residents() if "flood" in m.text.lower())
    result = await chat.service.pipeline.ingest([mention])
    assert result.alerts == 2
    shown = await chat.tick()
    assert shown.count("on Sandbox [SANDBOX]") == 1  # the console's; Slack's stays queued
    async with chat.service.db.transaction() as session:
        pending = await MentionStore(session).claim_undelivered(
            ["slack"], now=chat.clock.now(), stale_after=timedelta(minutes=2), limit=10
        )
    assert [alert.channel.channel_id for alert in pending] == ["C1"]


async def test_reply_from_an_alert_card(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe trapped")
    poller = chat.service.add_demo_poller(interval=1, batch_size=500)
    await poller.poll_once()
    shown = await chat.tick()
    assert "trapped" in shown.lower()
    reference = shown.split("Reply with `/reply ", 1)[1].split(" ", 1)[0]
    said = await chat.say(f"/reply {reference} Fire crews are on their way. Call 911 if in danger.")
    assert "Reply draft 1" in said
    assert CHANNEL.platform == "console"


async def test_the_same_rule_twice_in_a_channel_names_the_existing_subscription(converse) -> None:
    chat = await converse(user="alice")
    await chat.say('/alerts subscribe flood, "road closure"')
    said = await chat.say('/alerts subscribe  (flood OR "road closure")')
    assert 'already has that rule: subscription 1 (flood OR "road closure")' in said
    listing = await chat.say("/alerts list")
    assert "1: flood" in listing
    assert "2:" not in listing
    # Another channel may have the same rule; after unsubscribing, the channel may again.
    other = await chat.service.core.subscriptions.subscribe(
        Actor("slack", "U1"), ChannelRef("slack", "C1", "T1"), 'flood, "road closure"'
    )
    assert other.id == 2
    await chat.say("/alerts unsubscribe 1")
    assert "Subscribed (id 3)" in await chat.say('/alerts subscribe flood OR "road closure"')


async def test_alerts_list_counts_each_rules_own_matches(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe flood", "/alerts subscribe sandbags")
    texts = ["flood on Marsh Lane", "sandbags at the depot", "sandbags for the flood"]
    result = await chat.service.pipeline.ingest([mention(chat, text) for text in texts])
    assert result.alerts == 3  # the mention matching both rules is one alert
    assert (await chat.tick()).count("on Sandbox [SANDBOX]") == 3
    listing = await chat.say("/alerts list")
    assert "1: flood (by alice; 2 alert(s) in the last 24 h)" in listing
    assert "2: sandbags (by alice; 2 alert(s) in the last 24 h)" in listing
    chat.clock.advance(timedelta(hours=25))
    assert "1: flood (by alice; 0 alert(s) in the last 24 h)" in await chat.say("/alerts list")
