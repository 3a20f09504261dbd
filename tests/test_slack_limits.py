"""Cards that real Slack accepts, for any data: every payload the Slack adapter builds (draft
cards in every state, alert cards, digests, App Home, modals), with long, CJK, emoji and
many-item inputs, checked against Slack's documented Block Kit limits (`tests/block_kit.py`),
not against the fake, which accepts anything."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.chat.slack.blocks import card_blocks, fallback_text, text_modal
from chatops.chat.cards import Card, alert_card, draft_card
from chatops.domain.types import (
    Actor,
    Alert,
    Approval,
    ChannelRef,
    Draft,
    DraftKind,
    DraftState,
    Finding,
    MediaItem,
    Mention,
    MentionAuthor,
    Severity,
    StoredMention,
    Via,
)
from chatops.drafts.workflow import NewDraft
from chatops.runtime.clock import ManualClock
from tests.block_kit import message_problems, view_problems
from tests.conftest import START
from tests.slack_harness import APPROVER, AUTHOR, CHANNEL, TEAM, SlackDriver

ZONE = UTC
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CJK = "市役所からのお知らせ：明日の断水は午前九時から。" * 200  # 4,800 characters
EMOJI = "🌊🚧🏠 " * 900  # 3,600 code points, 6,300 UTF-16 units
ENTITIES = "R&D <Main> & <Oak> " * 300  # every character near a cut is an entity
INPUTS = {"cjk": CJK, "emoji": EMOJI, "entities": ENTITIES, "short": "Road closed."}


def message(card: Card) -> dict[str, Any]:
    """What chat.postMessage sends: the SDK's own validation runs in `to_dict` as well."""
    return {"text": fallback_text(card), "blocks": [b.to_dict() for b in card_blocks(card)]}


def big_draft(state: DraftState, text: str) -> Draft:
    return Draft(
        id=7,
        kind=DraftKind.REPLY,
        state=state,
        network="sandbox",
        account="PortAlderCity",
        text=text,
        author=AUTHOR,
        author_platform="slack",
        created_at=AT,
        revision=3,
        required_approvals=40,
        scheduled_at=AT + timedelta(days=1),
        reply_to_id="1" * 19,
        reply_to_url="https://sandbox.invalid/resident/status/" + "9" * 2500,
        published_url="https://sandbox.invalid/PortAlderCity/status/" + "8" * 40,
        error=text,
        findings=tuple(
            Finding(
                code=f"f{n}",
                severity=Severity.BLOCKING if n % 2 else Severity.WARNING,
                message=f"Finding {n}: {text[:400]}",
                suggestion=text[:300],
                override=f"{APPROVER}: {text[:50]}" if n % 3 == 0 else "",
            )
            for n in range(40)
        ),
        approvals=tuple(Approval(f"UAPPR{n:04d}", "slack", Via.BUTTON, AT) for n in range(300)),
        media=tuple(
            MediaItem(f"https://img.example/{n}/" + "a" * 300, alt_text=text[:2500])
            for n in range(30)
        ),
    )


@pytest.mark.parametrize("state", list(DraftState))
@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_draft_cards_in_every_state_fit(state: DraftState, kind: str) -> None:
    draft = big_draft(state, INPUTS[kind])
    card = draft_card(draft, zone=ZONE, labels=lambda network: "Sandbox")
    assert message_problems(message(card)) == []
    # Nothing is dropped without saying so: the last image's fact is still on the card,
    # and the findings that do not fit are counted.
    shown = str(message(card)["blocks"])
    assert "*Image 30*" in shown
    assert "more" in shown


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_alert_cards_fit(kind: str) -> None:
    text = INPUTS[kind]
    mention = Mention(
        network="sandbox",
        external_id="1" * 19,
        url="https://sandbox.invalid/resident/status/" + "7" * 19,
        author=MentionAuthor(handle="resident_" + "x" * 40, name=text[:1500], followers=10**9),
        text=text,
        created_at=AT,
        language="ja",
    )
    alert = Alert(
        id=3,
        subscription_id=1,
        mention=StoredMention(1, mention),
        channel=ChannelRef("slack", CHANNEL, TEAM),
        state="open",
        matched=tuple(f"{text[:20]}{n}" for n in range(200)),
        assignee=APPROVER,
        repeats=10**6,
        score=97,
        score_reasons=tuple(f"{text[:60]} (+{n})" for n in range(100)),
        is_question=True,
    )
    card = alert_card(alert, zone=ZONE, labels=lambda network: "Sandbox")
    assert message_problems(message(card)) == []


def modal(view: View) -> dict[str, Any]:
    return view.to_dict()


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_text_modals_never_prefill_more_than_their_max_length(kind: str) -> None:
    text = INPUTS[kind]
    view = modal(
        text_modal(
            callback_id="draft_edit_modal",
            title=f"Edit draft {text}",
            label=f"Reply to @{text}",
            submit=f"Save {text}",
            metadata='{"draft_id": 7}',
            initial=text,
            placeholder=text,
        )
    )
    assert view_problems(view) == []
    element = view["blocks"][0]["element"]
    if kind == "short":
        assert element["initial_value"] == text
    else:
        assert "initial_value" not in element
        assert "not filled in" in view["blocks"][0]["hint"]["text"]


def test_message_text_is_cut_on_whole_entities() -> None:
    from adapters.chat.slack.blocks import message_text

    text = message_text("&" * 50_000)
    assert message_problems({"text": text}) == []
    assert text.endswith("&amp;…")


_ids = itertools.count(1)


def question(number: int) -> Mention:
    handle = f"resident_{number:02d}_of_port_alder"
    return Mention(
        network="sandbox",
        external_id=f"q-{number}",
        url=f"https://sandbox.invalid/{handle}/status/{'4' * 19}{number:02d}",
        author=MentionAuthor(handle=handle),
        text=f"Flood question {number}: is the shelter on Harbor Road open tonight, and can I "
        "bring my dog and two cats with me? Nobody answers the phone.",
        created_at=START,
    )


async def test_a_digest_with_ten_long_questions_fits(fake_slack, database_url) -> None:
    clock = ManualClock(START)
    slack = await SlackDriver.start(fake_slack, database_url, clock=clock)
    try:
        await slack.service.core.subscriptions.subscribe(
            Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "flood"
        )
        assert await slack.service.digests.run_due() == 0
        await slack.service.pipeline.ingest([question(n) for n in range(1, 16)])
        await slack.service.delivery.deliver_pending()
        clock.advance(timedelta(minutes=61))
        assert await slack.service.digests.run_due() == 1
        digest = slack.card_posts()[-1]
        assert message_problems(digest) == []
        fields = [f["text"] for b in digest["blocks"] for f in b.get("fields", [])]
        [unanswered] = [f for f in fields if f.startswith("*Unanswered questions*")]
        # Whole questions, then a count of the rest: no line is cut in the middle.
        shown = unanswered.splitlines()[1:-1]
        assert len(shown) >= 5 and all(line.endswith("(nobody assigned)") for line in shown)
        assert unanswered.splitlines()[-1] == f"…and {10 - len(shown)} more"
    finally:
        await slack.close()


async def test_app_home_of_a_busy_desk_fits_and_points_to_the_queue(slack) -> None:
    core = slack.service.core
    here = ChannelRef("slack", CHANNEL, TEAM)
    for number in range(25):
        await core.workflow.create(
            Actor("slack", AUTHOR, workspace=TEAM),
            here,
            NewDraft(text=f"Update {number}: {CJK[:250]}"),
        )
    channels = [f"C{number:07d}" for number in range(80)]
    slack.fake.member_channels = channels
    for channel in channels:
        await core.subscriptions.subscribe(
            Actor("slack", AUTHOR, workspace=TEAM),
            ChannelRef("slack", channel, TEAM),
            f"flood {channel}",
        )
    await slack.event({"type": "app_home_opened", "user": APPROVER, "tab": "home", "channel": "D1"})
    [published] = await slack.fake.wait_for("views.publish")
    view = published.args["view"]
    assert view_problems(view) == []
    shown = str(view["blocks"])
    assert "…and 5 more. See `/social queue`." in shown
    assert "…and 30 more" in shown


async def test_modals_opened_from_cards_fit(slack) -> None:
    await slack.command("/post", f"Road closure. {CJK[:200]}")
    ts = await slack.card_ts(1)
    await slack.click("draft_edit", "1", AUTHOR, ts)
    await slack.click("draft_reject", "1", APPROVER, ts)
    opened = await slack.fake.wait_for("views.open", 2)
    for call in opened:
        assert view_problems(call.args["view"]) == []


def test_block_kit_checker_catches_what_slack_refuses() -> None:
    """The checker is not vacuous: the shapes today's Slack refuses are named."""
    long_field = {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}
    cut_entity = {"type": "section", "text": {"type": "mrkdwn", "text": "a &am"}}
    cut_link = {"type": "section", "text": {"type": "mrkdwn", "text": "see <https://a.gov"}}
    problems = message_problems({"blocks": [long_field, cut_entity, cut_link]})
    assert len(problems) == 3
    assert view_problems({"type": "home", "blocks": [{"type": "divider"}] * 101})
    prefilled = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Text"},
        "element": {"type": "plain_text_input", "max_length": 3000, "initial_value": "x" * 3001},
    }
    assert view_problems({"type": "modal", "blocks": [prefilled]})
    blocks: list[Block] = []
    assert message_problems({"blocks": blocks}) == []


async def test_a_digest_lists_one_line_per_mention(fake_slack, database_url) -> None:
    clock = ManualClock(START)
    slack = await SlackDriver.start(fake_slack, database_url, clock=clock)
    try:
        await slack.service.core.subscriptions.subscribe(
            Actor("slack", AUTHOR), ChannelRef("slack", CHANNEL, TEAM), "flood"
        )
        await slack.service.digests.run_due()
        several_lines = replace(question(1), text="Flood?\n\n> OFFICIAL\nline three")
        await slack.service.pipeline.ingest([several_lines, question(2)])
        await slack.service.delivery.deliver_pending()
        clock.advance(timedelta(minutes=61))
        assert await slack.service.digests.run_due() == 1
        fields = [f["text"] for b in slack.card_posts()[-1]["blocks"] for f in b.get("fields", [])]
        [unanswered] = [f for f in fields if f.startswith("*Unanswered questions*")]
        assert len(unanswered.splitlines()) == 3
        assert "Flood? &gt; OFFICIAL line three" in unanswered
    finally:
        await slack.close()
