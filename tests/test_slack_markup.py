"""Public text is data, never markup: what Slack receives from a hostile mention, its author's
display name, or a reason someone typed pings nobody, shows no disguised link and forges no
emphasis. Driven through the real SDK against the fake Slack, which records every call."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from chatops.domain.types import Actor, ChannelRef, Mention, MentionAuthor
from chatops.runtime.clock import ManualClock
from tests.conftest import START
from tests.slack_harness import (
    APPROVER,
    APPROVER_2,
    AUTHOR,
    CHANNEL,
    TEAM,
    SlackDriver,
    eventually,
)

HOSTILE = (
    "Flood <!channel> <!here> <!everyone> <@U0ADMIN02> <!subteam^S0ADMINS> "
    "see <https://evil.example/form|Official evacuation form> &lt;!channel&gt; "
    "*OFFICIAL: evacuate now* ~cancelled~ _urgent_ @here is the bridge open?"
)
HOSTILE_NAME = "<!channel> <https://evil.example|City of Port Alder> *OFFICIAL*"
ID_LIKE_NAME = "U0ADMIN02"
OUR_USERS = {AUTHOR, APPROVER, APPROVER_2}
OUR_LINK_LABELS = {"Open the mention", "View the live post"}
_ids = itertools.count(1)


def hostile_mention(name: str, *, at: Any) -> Mention:
    number = next(_ids)
    return Mention(
        network="sandbox",
        external_id=f"h-{number}",
        url=f"https://sandbox.invalid/resident{number}/status/h-{number}",
        author=MentionAuthor(handle=f"resident{number}", name=name, followers=12),
        text=f"{HOSTILE} ({number})",
        created_at=at,
    )


def mrkdwn_texts(payload: Any) -> Iterator[str]:
    """Every string Slack reads as mrkdwn: a message's `text`, and mrkdwn text objects.
    (`plain_text` objects are never parsed for mentions or links.)"""
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn":
            yield str(payload["text"])
        elif payload.get("type") != "plain_text":
            for key, value in payload.items():
                if key == "text" and isinstance(value, str):
                    yield value
                else:
                    yield from mrkdwn_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from mrkdwn_texts(item)


def live_markup(payload: Any) -> list[str]:
    """Markup in what Slack receives that the bot did not put there itself."""
    found = []
    for text in mrkdwn_texts(payload):
        for token in re.findall(r"<[^<>]*>", text):
            inner = token[1:-1]
            target, _, label = inner.partition("|")
            ours = (
                (target.startswith("@") and target[1:] in OUR_USERS and not label)
                or (target.startswith("#C") and not label)
                or (target.startswith(("https://", "http://")) and label in OUR_LINK_LABELS | {""})
            )
            if not ours or "evil.example|" in token:
                found.append(token)
        found += re.findall(r"(?<![\w\u2060])@(?:here|channel|everyone)\b", text)
        found += re.findall(r"\*OFFICIAL|~cancelled~|(?<!\w)_urgent_", text)
    return found


async def subscribed(slack: SlackDriver) -> None:
    await slack.service.core.subscriptions.subscribe(
        Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "flood"
    )


async def test_an_alert_card_shows_hostile_text_and_names_as_text(slack) -> None:
    await subscribed(slack)
    now = slack.service.core.clock.now()
    mentions = [hostile_mention(HOSTILE_NAME, at=now), hostile_mention(ID_LIKE_NAME, at=now)]
    assert (await slack.service.pipeline.ingest(mentions)).alerts == 2
    assert await slack.service.delivery.deliver_pending() == 2
    posts = slack.card_posts()
    assert len(posts) == 2
    for post in posts:
        assert live_markup(post) == []
    # A display name that looks like a user id is a name, not a mention.
    [name] = [t for t in mrkdwn_texts(posts[1]) if t.startswith("*From*")]
    assert name == f"*From*\nU0ADMIN02 (@{mentions[1].author.handle}), 12 followers"
    # Still readable: the whole text is on the card, as the resident wrote it.
    body = posts[0]["blocks"][1]["text"]
    assert body == {"type": "plain_text", "text": mentions[0].text, "emoji": False}
    # The bot's own users still become mentions once it knows them.
    await slack.click("alert_assign", "1", AUTHOR)
    [update] = await slack.fake.wait_for("chat.update")
    assert "Assigned to <@UAUTHOR01>" in str(update.args["blocks"])
    assert live_markup(update.args) == []


async def test_a_digest_of_hostile_mentions_is_inert(fake_slack, database_url) -> None:
    clock = ManualClock(START)
    slack = await SlackDriver.start(fake_slack, database_url, clock=clock)
    try:
        await subscribed(slack)
        assert await slack.service.digests.run_due() == 0  # the hourly schedule starts now
        mentions = [
            hostile_mention(HOSTILE_NAME, at=START),
            hostile_mention(ID_LIKE_NAME, at=START),
        ]
        await slack.service.pipeline.ingest(mentions)
        await slack.service.delivery.deliver_pending()
        clock.advance(timedelta(minutes=61))
        assert await slack.service.digests.run_due() == 1
        digest = slack.card_posts()[-1]
        assert "Hourly digest" in str(digest["blocks"][0])
        assert "Unanswered questions" in str(digest["blocks"])
        assert live_markup(digest) == []
    finally:
        await slack.close()


async def test_the_overdue_question_note_is_inert(fake_slack, database_url) -> None:
    clock = ManualClock(START)  # a Friday 15:00 UTC: two business hours left
    slack = await SlackDriver.start(fake_slack, database_url, clock=clock)
    try:
        await subscribed(slack)
        await slack.service.pipeline.ingest([hostile_mention(HOSTILE_NAME, at=clock.now())])
        await slack.service.delivery.deliver_pending()
        clock.advance(timedelta(days=3, hours=1))
        assert await slack.service.inbox.resurface_overdue() == 1
        [note] = slack.thread_replies()
        assert note.startswith("Still unanswered")
        assert "`/reply h-" in note
        assert live_markup({"text": note}) == []
    finally:
        await slack.close()


async def test_a_reason_typed_in_a_modal_is_inert_in_the_thread(slack) -> None:
    await slack.command("/post", "Road closure on Main St tonight.")
    await slack.card_ts(1)
    reason = "<!here> use <https://evil.example|the official form> instead *NOW*"
    await slack.submit("draft_reject_modal", {"draft_id": 1}, reason, APPROVER)

    async def noted() -> bool:
        return any("rejected" in r for r in slack.thread_replies())

    await eventually(noted)
    for call in slack.fake.calls:
        assert live_markup(call.args) == [], call.method


async def test_app_home_previews_drafts_and_rules_as_text(slack) -> None:
    await slack.command("/post", "Flood update @channel *OFFICIAL: evacuate now* _urgent_")
    await slack.card_ts(1)
    await subscribed(slack)
    await slack.event({"type": "app_home_opened", "user": APPROVER, "tab": "home", "channel": "D1"})
    [published] = await slack.fake.wait_for("views.publish")
    assert live_markup(published.args["view"]) == []
    assert f"<@{AUTHOR}>" in str(published.args["view"])
    assert f"<#{CHANNEL}>" in str(published.args["view"])
