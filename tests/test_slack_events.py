"""Reactions, alerts, App Home and delivery details, through the real bolt app."""

from __future__ import annotations

import time

from adapters.social.sandbox.feed import demo_feed
from chatops.domain.types import Actor, ChannelRef, DraftState
from chatops.storage.audit import AuditLog
from chatops.storage.mentions import MentionStore
from tests.slack_harness import (
    ADMIN,
    APPROVER,
    APPROVER_2,
    AUTHOR,
    CHANNEL,
    STRANGER,
    TEAM,
    SlackDriver,
    block_text,
    eventually,
)

ROAD = "Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."


async def posted_card(slack) -> str:  # type: ignore[no-untyped-def]
    await slack.command("/post", ROAD)
    return await slack.card_ts(1)


async def state(slack) -> DraftState:  # type: ignore[no-untyped-def]
    return (await slack.service.core.workflow.get(1)).state


async def test_reaction_from_an_approver_approves(slack) -> None:
    ts = await posted_card(slack)
    response = await slack.react(ts, APPROVER)
    assert response.status == 200

    async def approved() -> bool:
        return await state(slack) is DraftState.APPROVED

    await eventually(approved)
    draft = await slack.service.core.workflow.get(1)
    assert draft.approvals[0].via.value == "reaction"


async def test_refused_reactions_are_explained_privately(slack) -> None:
    ts = await posted_card(slack)
    await slack.react(ts, AUTHOR)
    await slack.react(ts, STRANGER)
    ephemerals = await slack.fake.wait_for("chat.postEphemeral", 2)
    by_user = {c.args["user"]: c.args["text"] for c in ephemerals}
    assert "you cannot approve it yourself" in by_user[AUTHOR]
    assert "needs the approver role" in by_user[STRANGER]
    assert all(c.args["channel"] == CHANNEL for c in ephemerals)
    assert await state(slack) is DraftState.PENDING


async def test_other_reactions_and_other_messages_are_ignored(slack) -> None:
    ts = await posted_card(slack)
    await slack.react(ts, APPROVER, reaction="eyes")
    await slack.react("999.000", APPROVER)
    await slack.react(ts, APPROVER, reaction="+1::skin-tone-3")

    async def approved() -> bool:
        return await state(slack) is DraftState.APPROVED

    await eventually(approved)
    assert slack.fake.calls_to("chat.postEphemeral") == []


async def test_removing_the_reaction_withdraws_while_pending(fake_slack, database_url) -> None:
    slack = await SlackDriver.start(fake_slack, database_url, required_approvals=2)
    try:
        ts = await posted_card(slack)
        await slack.react(ts, APPROVER)

        async def approvals(count: int) -> bool:
            return len((await slack.service.core.workflow.get(1)).approvals) == count

        await eventually(lambda: approvals(1))
        await slack.react(ts, APPROVER, added=False)
        await eventually(lambda: approvals(0))
        await slack.react(ts, APPROVER)
        await slack.react(ts, APPROVER_2)

        async def approved() -> bool:
            return await state(slack) is DraftState.APPROVED

        await eventually(approved)
    finally:
        await slack.close()


async def test_a_retried_event_is_processed_once(slack) -> None:
    ts = await posted_card(slack)
    event = {
        "type": "reaction_added",
        "user": AUTHOR,
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": CHANNEL, "ts": ts},
        "event_ts": str(time.time()),
    }
    first = await slack.event(event, event_id="EvRETRY001")
    assert first.status == 200
    await slack.fake.wait_for("chat.postEphemeral")
    retried = await slack.event(
        event,
        event_id="EvRETRY001",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retried.status == 200
    again = await slack.event(event, event_id="EvRETRY001")
    assert again.status == 200
    await slack.react(ts, APPROVER)

    async def approved() -> bool:
        return await state(slack) is DraftState.APPROVED

    await eventually(approved)
    assert len(slack.fake.calls_to("chat.postEphemeral")) == 1


async def test_alert_card_reply_modal_creates_a_reply_draft(slack) -> None:
    core = slack.service.core
    await core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "trapped"
    )
    mention = next(m for m in demo_feed() if "trapped" in m.text.lower())
    assert (await slack.service.pipeline.ingest([mention])).alerts == 1
    assert await slack.service.delivery.deliver_pending() == 1
    [alert_post] = slack.card_posts()
    card = block_text(alert_post["blocks"])
    assert "Question on Sandbox" in card
    assert f"@{mention.author.handle}" in card
    assert "followers" in card
    assert "matched trapped" in card
    assert mention.url in card

    await slack.click("alert_assign", "1", AUTHOR)
    await eventually(lambda: _alert_state(slack, assignee=AUTHOR))
    assert f"Assigned to <@{AUTHOR}>" in block_text(
        slack.fake.calls_to("chat.update")[-1].args["blocks"]
    )

    await slack.click("alert_reply", "1", AUTHOR)
    [opened] = await slack.fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "alert_reply_modal"
    await slack.submit("alert_reply_modal", {"alert_id": 1}, "Fire crews are on their way.", AUTHOR)
    draft = await core.workflow.get(1)
    assert draft.reply_to_id == mention.external_id
    assert draft.text == "Fire crews are on their way."
    await eventually(lambda: _cards(slack, 2))
    assert "Reply draft 1" in block_text(slack.card_posts()[1]["blocks"])

    await slack.click("alert_handled", "1", APPROVER)
    await eventually(lambda: _alert_state(slack, state="handled"))
    final = block_text(slack.fake.calls_to("chat.update")[-1].args["blocks"])
    assert f"Handled by <@{APPROVER}>" in final


async def _cards(slack, count: int) -> bool:  # type: ignore[no-untyped-def]
    return len(slack.card_posts()) >= count


async def _alert_state(slack, *, assignee: str | None = None, state: str | None = None) -> bool:  # type: ignore[no-untyped-def]
    async with slack.service.db.transaction() as session:
        alert = await MentionStore(session).alert(1)
    assert alert is not None
    return (assignee is None or alert.assignee == assignee) and (
        state is None or alert.state == state
    )


async def test_app_home_lists_what_waits_for_me_and_subscriptions(slack) -> None:
    await posted_card(slack)
    core = slack.service.core
    await core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "flood"
    )
    await core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", "COTHER", TEAM), "fire"
    )
    await slack.event({"type": "app_home_opened", "user": APPROVER, "tab": "home", "channel": "D1"})
    [published] = await slack.fake.wait_for("views.publish")
    assert published.args["user_id"] == APPROVER
    home = block_text(published.args["view"]["blocks"])
    assert "Waiting for your approval" in home
    assert "*#1* · pending · 0/1 approvals" in home
    assert "flood" in home
    assert "fire" not in home  # the bot is not a member of COTHER


async def test_rate_limited_web_api_calls_are_retried_not_dropped(slack) -> None:
    slack.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await slack.command("/post", ROAD)
    await slack.card_ts(1)
    statuses = [c.method for c in slack.fake.calls_to("chat.postMessage")]
    assert len(statuses) == 2


async def test_lost_channel_pauses_its_subscriptions_and_tells_admins(slack) -> None:
    core = slack.service.core
    await core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "flood"
    )
    slack.fake.fail("chat.postMessage", "not_in_channel", times=1)
    mentions = [m for m in demo_feed() if "flood" in m.text.lower()][:3]
    await slack.service.pipeline.ingest(mentions)
    assert await slack.service.delivery.deliver_pending() == 0
    assert await slack.service.delivery.deliver_pending() == 0  # nothing left to retry in a loop
    dms = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]
    assert len(dms) == 1
    assert "can no longer post in channel C0001" in dms[0].args["text"]
    assert await core.subscriptions.of_channel(ChannelRef("slack", CHANNEL, TEAM)) == []
    async with slack.service.db.transaction() as session:
        actions = [e.action for e in await AuditLog(session).events()]
    assert "subscription_paused" in actions


async def test_archived_channel_event_pauses_subscriptions(slack) -> None:
    core = slack.service.core
    channel = ChannelRef("slack", CHANNEL, TEAM)
    await core.subscriptions.subscribe(Actor("slack", AUTHOR), channel, "flood")
    await slack.event({"type": "channel_archive", "channel": CHANNEL, "user": AUTHOR})

    async def paused() -> bool:
        return await core.subscriptions.of_channel(channel) == []

    await eventually(paused)
    dm = await slack.fake.wait_for("chat.postMessage")
    assert "it was archived" in dm[0].args["text"]


async def test_post_in_a_channel_without_the_bot_keeps_the_draft(slack) -> None:
    slack.fake.fail("chat.postMessage", "not_in_channel", times=1)
    await slack.command("/post", ROAD)

    async def told() -> bool:
        return any("Invite me" in str(r.get("text")) for r in slack.responses())

    await eventually(told)
    assert (await slack.service.core.workflow.get(1)).state is DraftState.PENDING


async def test_a_reply_from_an_alert_whose_card_fails_is_shown_privately(slack) -> None:
    """The draft is committed before its card is posted: when Slack refuses the card, the
    person who wrote it gets the card privately, with how to show it again."""
    core = slack.service.core
    await core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "trapped"
    )
    mention = next(m for m in demo_feed() if "trapped" in m.text.lower())
    assert (await slack.service.pipeline.ingest([mention])).alerts == 1
    assert await slack.service.delivery.deliver_pending() == 1
    slack.fake.fail("chat.postMessage", "internal_error")
    await slack.submit("alert_reply_modal", {"alert_id": 1}, "Fire crews are on their way.", AUTHOR)
    [private] = await slack.fake.wait_for("chat.postEphemeral")
    assert private.args["user"] == AUTHOR
    assert "Reply 1 created" in private.args["text"]
    assert "/social show 1" in private.args["text"]
    assert "Reply draft 1" in block_text(private.args["blocks"])
    assert (await core.workflow.get(1)).text == "Fire crews are on their way."
