"""Slash commands, cards, buttons and modals through the real bolt app and Web API client."""

from __future__ import annotations

import time

from chatops.domain.types import DraftState
from chatops.drafts.policy import MAX_TEXT_CHARS
from tests.slack_harness import (
    ADMIN,
    APPROVER,
    APPROVER_2,
    AUTHOR,
    CHANNEL,
    STRANGER,
    block_text,
    eventually,
)

ROAD = "Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."


async def draft_state(slack, draft_id: int = 1) -> DraftState:  # type: ignore[no-untyped-def]
    return (await slack.service.core.workflow.get(draft_id)).state


async def test_post_acks_with_a_receipt_and_posts_a_card(slack) -> None:
    response = await slack.command("/post", ROAD)
    assert response.status == 200
    ack = await response.json()
    assert ack["response_type"] == "ephemeral"
    assert "/post Road closure" in ack["text"]

    [post] = (await slack.fake.wait_for("chat.postMessage"))[:1]
    assert post.args["channel"] == CHANNEL
    card = block_text(post.args["blocks"])
    assert "Post draft 1 [SANDBOX]" in card
    assert post.args["blocks"][1]["text"] == {"type": "plain_text", "text": ROAD, "emoji": False}
    assert "Waiting for approval" in card
    assert f"<@{AUTHOR}>" in card
    assert "0/1 (none yet)" in card
    assert "No policy findings" in card
    buttons = [
        e["action_id"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["draft_approve", "draft_reject", "draft_edit", "draft_cancel"]

    await eventually(lambda: _has_response(slack, "Draft 1 created"))
    assert slack.responses()[-1]["response_type"] == "ephemeral"


async def _has_response(slack, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in str(r.get("text")) for r in slack.responses())


async def test_command_errors_are_ephemeral_and_explain_the_fix(slack) -> None:
    await slack.command("/post", '--at "yesterday 9am" too late')
    await eventually(lambda: _has_response(slack, "in the past"))
    [reply] = [r for r in slack.responses() if "in the past" in r["text"]]
    assert reply["response_type"] == "ephemeral"
    assert '--at "tomorrow 9am"' in reply["text"]
    assert slack.card_posts() == []


async def test_every_slash_command_is_served(slack) -> None:
    await slack.command("/reply", "sbx-0001 Main St reopens at 6am.")
    await eventually(lambda: _has_response(slack, "Reply 1 created"))
    assert "Reply draft 1" in block_text(slack.card_posts()[0]["blocks"])

    await slack.command("/alerts", 'subscribe flood, "boil water"')
    await eventually(lambda: _has_response(slack, "Subscribed (id 1)"))
    subscribed = next(r for r in slack.responses() if "Subscribed" in r["text"])
    assert subscribed["response_type"] == "in_channel"
    await slack.command("/alerts", "list")
    await eventually(lambda: _has_response(slack, '1: flood OR "boil water"'))

    await slack.command("/social", "queue")
    await eventually(lambda: _has_response(slack, "#1 [pending, 0/1 approvals]"))
    await slack.command("/social", "help")
    await eventually(lambda: _has_response(slack, "What I can do"))


async def test_approve_button_updates_the_card_and_threads_who_did_it(slack) -> None:
    await slack.command("/post", ROAD)
    [post] = await slack.fake.wait_for("chat.postMessage")
    ts = await slack.card_ts(1)
    await slack.click("draft_approve", slack.button_value(1), APPROVER, ts)
    await eventually(lambda: _state_is(slack, DraftState.PUBLISHED, publish=True))
    updates = await slack.fake.wait_for("chat.update", 2)
    assert all(u.args["ts"] == ts for u in updates)
    final = block_text(updates[-1].args["blocks"])
    assert "Published" in final
    assert "https://sandbox.invalid/PortAlderCity/status/sbp-1" in final
    replies = slack.thread_replies()
    assert any(f"approved by {APPROVER.lower()}" in r for r in replies)
    assert any("Published: <https://sandbox.invalid/" in r for r in replies)
    assert post.args["channel"] == CHANNEL


async def _state_is(slack, state: DraftState, *, publish: bool = False) -> bool:  # type: ignore[no-untyped-def]
    if publish:
        await slack.service.publisher.run_once()
    return await draft_state(slack) is state


async def test_reject_asks_for_a_reason_in_a_modal(slack) -> None:
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.click("draft_reject", "1", APPROVER, ts)
    [opened] = await slack.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "draft_reject_modal"
    assert "Why is draft 1 rejected?" in block_text(view["blocks"])
    response = await slack.submit(
        view["callback_id"], {"draft_id": 1}, "Wrong detour street", APPROVER
    )
    assert response.status == 200
    assert await draft_state(slack) is DraftState.REJECTED
    await eventually(lambda: _replied(slack, "rejected by uapprove1: Wrong detour street"))
    update = slack.fake.calls_to("chat.update")[-1]
    assert "Rejected" in block_text(update.args["blocks"])


async def _replied(slack, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in reply for reply in slack.thread_replies())


async def test_a_refused_modal_shows_the_reason_in_the_modal(slack) -> None:
    await slack.command("/post", ROAD)
    await slack.card_ts(1)
    response = await slack.submit("draft_reject_modal", {"draft_id": 1}, "nope", STRANGER)
    body = await response.json()
    assert body["response_action"] == "errors"
    assert "needs the approver role" in body["errors"]["input"]
    assert await draft_state(slack) is DraftState.PENDING


async def test_edit_modal_shows_the_text_and_saving_clears_approvals(
    fake_slack, database_url
) -> None:
    from tests.slack_harness import SlackDriver

    slack = await SlackDriver.start(fake_slack, database_url, required_approvals=2)
    try:
        await slack.command("/post", ROAD)
        ts = await slack.card_ts(1)
        await slack.click("draft_approve", slack.button_value(1), APPROVER, ts)
        await eventually(lambda: _approvals(slack, 1))
        await slack.click("draft_edit", "1", AUTHOR, ts)
        [opened] = await slack.fake.wait_for("views.open")
        view = opened.args["view"]
        assert view["blocks"][0]["element"]["initial_value"] == ROAD
        await slack.submit(view["callback_id"], {"draft_id": 1}, "Main St closed 9pm-6am.", AUTHOR)
        draft = await slack.service.core.workflow.get(1)
        assert draft.text == "Main St closed 9pm-6am."
        assert draft.approvals == ()
        await eventually(lambda: _replied(slack, "Approvals were cleared"))
    finally:
        await slack.close()


async def _approvals(slack, count: int) -> bool:  # type: ignore[no-untyped-def]
    return len((await slack.service.core.workflow.get(1)).approvals) == count


async def test_cancel_button_and_refusal_for_strangers(slack) -> None:
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.click("draft_cancel", "1", STRANGER, ts)
    await eventually(lambda: _has_response(slack, "Only the author of draft 1 or an approver"))
    refusal = next(r for r in slack.responses() if "Only the author" in r["text"])
    assert refusal["response_type"] == "ephemeral"
    assert refusal["replace_original"] is False
    await slack.click("draft_cancel", "1", AUTHOR, ts)
    await eventually(lambda: _state_is(slack, DraftState.CANCELLED))


async def test_roles_are_granted_by_admins_with_slack_mentions(slack) -> None:
    await slack.command("/social", f"roles grant <@{STRANGER}|stranger> approver", user=AUTHOR)
    await eventually(lambda: _has_response(slack, "Granting roles needs the admin role"))
    await slack.command("/social", f"roles grant <@{STRANGER}|stranger> approver", user=ADMIN)
    await eventually(lambda: _has_response(slack, f"{STRANGER} is now approver"))
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.click("draft_approve", slack.button_value(1), STRANGER, ts)
    await eventually(lambda: _state_is(slack, DraftState.PUBLISHED, publish=True))
    assert APPROVER_2  # a second configured approver exists but was not needed


async def test_an_over_long_post_is_refused_at_once_and_names_the_limit(slack) -> None:
    """6,000 characters of dotted words used to hold the event loop for about 40 s."""
    started = time.monotonic()
    response = await slack.command("/post", "a." * 3000)
    assert response.status == 200
    await eventually(lambda: _has_response(slack, "can be at most"), within=2)
    assert time.monotonic() - started < 2
    [reply] = [r for r in slack.responses() if "can be at most" in r["text"]]
    assert reply["response_type"] == "ephemeral"
    expected = f"The text is 6,000 characters; drafts can be at most {MAX_TEXT_CHARS:,}"
    assert expected in reply["text"]
    assert slack.card_posts() == []


async def test_healthz_answers_while_the_longest_allowed_draft_is_checked(slack) -> None:
    """The hardest text for twitter-text's link finder, at the longest length allowed."""
    text = ("a." * MAX_TEXT_CHARS)[: MAX_TEXT_CHARS - 6] + "a-.com"
    await slack.command("/post", text)
    latencies = []
    deadline = time.monotonic() + 20
    while not slack.card_posts() and time.monotonic() < deadline:
        started = time.monotonic()
        assert (await slack.client.get("/healthz")).status == 200
        latencies.append(time.monotonic() - started)
    assert slack.card_posts(), "the draft's card was never posted"
    # A check run on the event loop stalls it for seconds; 0.5 s leaves room for a full
    # garbage collection (about 0.1 s on a loaded 2-core machine), which is not a block.
    assert max(latencies) < 0.5, f"/healthz took {max(latencies):.2f} s"
