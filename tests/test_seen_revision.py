"""An approval approves the text the approver saw, and no author of any revision approves it.

A card whose update failed after an edit still shows the old text: its Approve button and
reactions on it must not approve the new text. The console, Slack (through the real bolt
app against the fake Web API) and Teams (real activities against the fake connector) are
each driven as people use them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest

import tests.test_teams as teams_tests
from chatops.domain.errors import InvalidInput
from chatops.domain.types import DraftState
from chatops.storage.audit import AuditLog
from chatops.storage.drafts import DraftStore
from commands.parsing import UNSEEN_REVISION, draft_button, revision_of
from tests.slack_harness import APPROVER, AUTHOR, SlackDriver, block_text, eventually
from tests.test_teams import (
    ALICE,
    BOB,
    approve_data,
    card_text,
)

ROAD = "Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."
FIXED = "Road closure on Main St tonight 9pm-6am. Detour via Elm St."
AGAIN = "Road closure on Main St tonight 9pm-5am. Detour via Elm St."


# -- console ------------------------------------------------------------------------------


async def test_command_approval_quotes_the_text_it_approved(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post {ROAD}")
    approved = await chat.say("/as bob", "/social approve 1")
    assert f"Draft 1 approved by bob; publishing now. Approved text: “{ROAD}”" in approved
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events(draft_id=1)
    [event] = [e for e in events if e.action == "approval"]
    assert event.details["revision"] == 1
    assert event.details["text"] == ROAD


async def test_a_very_long_approved_text_is_quoted_shortened(converse) -> None:
    # A long link counts as 23 characters on X, so this long text is still approvable.
    link = "https://portalder.example.gov/notices/" + "detour-" * 80
    chat = await converse(user="alice", link_allowlist=("portalder.example.gov",))
    await chat.say(f"/post Detour map: {link} Please plan ahead.")
    approved = await chat.say("/as bob", "/social approve 1")
    quoted = approved.split("Approved text: “", 1)[1].split("”", 1)[0]
    assert quoted.startswith("Detour map: https://portalder.example.gov/notices/detour-")
    assert quoted.endswith("…") and len(quoted) < len(link)
    assert "characters" in approved.split("”", 1)[1]
    assert (await chat.service.core.workflow.get(1)).state is not DraftState.PENDING


async def test_an_approval_of_an_outdated_revision_is_refused_with_the_current_card(
    converse,
) -> None:
    chat = await converse(user="alice")
    created = await chat.say(f"/post {ROAD}")
    assert "/social approve 1 --revision 1" in created
    await chat.say(f"/social edit 1 {FIXED}")
    refused = await chat.say("/as bob", "/social approve 1 --revision 1")
    assert "changed since" in refused and "did not approve" in refused
    assert FIXED in refused and "/social approve 1 --revision 2" in refused
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING and draft.approvals == ()
    assert "publishing now" in await chat.say("/social approve 1 --revision 2")


async def test_the_console_reaction_approves_the_revision_its_card_shows(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post {ROAD}", f"/social edit 1 {FIXED}")
    approved = await chat.say("/as bob", "/react 1 white_check_mark")
    assert "approved by bob" in approved
    assert (await chat.service.core.workflow.get(1)).text == FIXED


async def test_a_reaction_in_a_new_console_session_first_shows_the_card(converse) -> None:
    """No card of the draft was printed in this session: the reaction approves nothing, and
    the current card is printed; reacting to that card approves."""
    earlier = await converse(user="alice")
    await earlier.say(f"/post {ROAD}")
    later = await converse(user="bob")
    assert "Draft 2 created" in await later.say("/as carol", f"/post {FIXED}")
    refused = await later.say("/as bob", "/react 1 white_check_mark")
    assert "did not approve" in refused and ROAD in refused
    assert (await later.service.core.workflow.get(1)).approvals == ()
    assert "approved by bob" in await later.say("/react 1 white_check_mark")


async def test_an_approver_who_rewrote_a_draft_cannot_approve_it(converse) -> None:
    chat = await converse(user="alice", approvers=("bob", "carol"))
    await chat.say(f"/post {ROAD}")
    edited = await chat.say("/as bob", f"/social edit 1 {FIXED}")
    assert "Authors: alice, bob (edited)" in edited
    refused = await chat.say("/social approve 1", "/react 1 white_check_mark")
    assert refused.count("you cannot approve it yourself") == 2
    assert (await chat.service.core.workflow.get(1)).approvals == ()
    approved = await chat.say("/as carol", "/social approve 1")
    assert "approved by carol" in approved


async def test_describing_an_image_makes_the_describer_an_author(converse) -> None:
    chat = await converse(user="alice", approvers=("bob", "carol"))
    await chat.say(f"/post --image https://example.gov/detour.png {ROAD}")
    described = await chat.say("/as bob", "/social alt 1 Map of the detour via Oak Ave")
    assert "Authors: alice, bob (edited)" in described
    assert "you cannot approve it yourself" in await chat.say("/social approve 1")
    draft = await chat.service.core.workflow.get(1)
    assert [(a.platform, a.user_id) for a in draft.authors] == [
        ("console", "alice"),
        ("console", "bob"),
    ]


# -- what buttons carry --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3:2", (3, 2)), ("3", (3, UNSEEN_REVISION)), ("3:", (3, UNSEEN_REVISION))],
)
def test_a_draft_button_value_names_the_draft_and_the_revision(
    value: str, expected: tuple[int, int]
) -> None:
    assert draft_button(value) == expected


@pytest.mark.parametrize(
    "value", ["3:two", "3:2:1", "3:-1", "3:" + "9" * 12, "3:２", ":2", "3:2 ", None, "True"]
)
def test_a_malformed_draft_button_value_is_refused_politely(value: object) -> None:
    with pytest.raises(InvalidInput, match="not one of mine, or it is out of date"):
        draft_button(value)


@pytest.mark.parametrize("value", ["two", "-1", [2], True, 2.0, "9" * 12])
def test_a_malformed_revision_in_card_data_is_refused_politely(value: object) -> None:
    with pytest.raises(InvalidInput):
        revision_of(value)


def test_a_revision_in_card_data_may_be_a_number_or_text() -> None:
    assert revision_of(2) == revision_of("2") == 2
    assert revision_of(None) == UNSEEN_REVISION


# -- Slack --------------------------------------------------------------------------------


async def slack_card_after_failed_update(slack: SlackDriver) -> tuple[str, str]:
    """Draft 1 posted, then edited while chat.update fails: its card still shows ROAD."""
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    old_value = slack.button_value(1)
    slack.fake.fail("chat.update", "cant_update_message")
    await slack.command("/social", f"edit 1 {FIXED}")

    async def edited() -> bool:
        return (await slack.service.core.workflow.get(1)).revision == 2

    await eventually(edited)
    await slack.fake.wait_for("chat.update")
    return ts, old_value


async def test_slack_approve_on_a_card_whose_update_failed_is_refused(slack) -> None:
    ts, old_value = await slack_card_after_failed_update(slack)
    await slack.click("draft_approve", old_value, APPROVER, ts)

    async def answered() -> bool:
        return any("did not approve" in str(r.get("text")) for r in slack.responses())

    await eventually(answered)
    [answer] = [r for r in slack.responses() if "did not approve" in str(r.get("text"))]
    assert answer["response_type"] == "ephemeral" and answer.get("replace_original") is False
    shown = block_text(answer["blocks"])
    assert FIXED in shown and ROAD not in shown
    draft = await slack.service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING and draft.approvals == ()

    # The card the refusal showed is current: its Approve button approves.
    [value] = [
        e["value"]
        for b in answer["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "draft_approve"
    ]
    await slack.click("draft_approve", value, APPROVER, ts)

    async def approved() -> bool:
        return (await slack.service.core.workflow.get(1)).state is DraftState.APPROVED

    await eventually(approved)
    assert (await slack.service.core.workflow.get(1)).text == FIXED


async def test_slack_reaction_on_an_outdated_card_is_refused_until_it_is_current(slack) -> None:
    ts, _ = await slack_card_after_failed_update(slack)
    await slack.react(ts, APPROVER)
    [ephemeral] = await slack.fake.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == APPROVER
    assert "did not approve" in ephemeral.args["text"]
    assert FIXED in block_text(ephemeral.args["blocks"])
    assert (await slack.service.core.workflow.get(1)).approvals == ()

    # An edit whose card update succeeds makes the card current again.
    await slack.command("/social", f"edit 1 {AGAIN}")
    await slack.fake.wait_for("chat.update", 2)

    async def current() -> bool:
        """The card's record moves on once Slack has taken the update, a moment after it."""
        async with slack.service.db.transaction() as session:
            [card] = await DraftStore(session).cards(1)
            return await DraftStore(session).shown_on(card) == (1, 3)

    await eventually(current)
    await slack.react(ts, APPROVER)

    async def approved() -> bool:
        return (await slack.service.core.workflow.get(1)).state is DraftState.APPROVED

    await eventually(approved)
    assert (await slack.service.core.workflow.get(1)).text == AGAIN


async def test_an_old_slack_button_without_a_revision_approves_nothing(slack) -> None:
    """Cards posted before buttons carried revisions say only the draft id."""
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.click("draft_approve", "1", APPROVER, ts)

    async def answered() -> bool:
        return any("did not approve" in str(r.get("text")) for r in slack.responses())

    await eventually(answered)
    assert (await slack.service.core.workflow.get(1)).approvals == ()


async def test_a_slack_button_with_a_malformed_revision_is_refused_politely(slack) -> None:
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.click("draft_approve", "1:latest", APPROVER, ts)

    async def answered() -> bool:
        return any("not one of mine" in str(r.get("text")) for r in slack.responses())

    await eventually(answered)
    assert (await slack.service.core.workflow.get(1)).approvals == ()


async def test_slack_command_for_an_outdated_revision_shows_the_current_card_privately(
    slack,
) -> None:
    await slack.command("/post", ROAD)
    await slack.card_ts(1)
    await slack.command("/social", f"edit 1 {FIXED}")
    await slack.fake.wait_for("chat.update")
    await slack.command("/social", "approve 1 --revision 1", user=APPROVER)

    async def answered() -> bool:
        return any("did not approve" in str(r.get("text")) for r in slack.responses())

    await eventually(answered)
    [answer] = [r for r in slack.responses() if "did not approve" in str(r.get("text"))]
    assert answer["response_type"] == "ephemeral"
    assert FIXED in block_text(answer["blocks"])
    assert len(slack.card_posts()) == 1  # no second card in the channel
    assert (await slack.service.core.workflow.get(1)).approvals == ()


async def test_a_slack_edit_modal_opened_before_another_edit_saves_nothing(slack) -> None:
    """Saving a modal opened on revision 1 after someone else's edit would overwrite that
    edit unseen: the modal says why, and both texts survive (the draft's and the modal's)."""
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.click("draft_edit", slack.button_value(1), APPROVER, ts)
    [opened] = await slack.fake.wait_for("views.open")
    metadata = json.loads(opened.args["view"]["private_metadata"])
    assert metadata == {"draft_id": 1, "revision": 1}
    await slack.command("/social", f"edit 1 {FIXED}")

    async def edited() -> bool:
        return (await slack.service.core.workflow.get(1)).revision == 2

    await eventually(edited)
    answer = await (await slack.submit("draft_edit_modal", metadata, AGAIN, APPROVER)).json()
    assert answer["response_action"] == "errors"
    assert "changed after you began editing" in answer["errors"]["input"]
    draft = await slack.service.core.workflow.get(1)
    assert (draft.revision, draft.text) == (2, FIXED)
    current = {"draft_id": 1, "revision": 2}
    assert (await slack.submit("draft_edit_modal", current, AGAIN, APPROVER)).status == 200
    await eventually(lambda: _revision_is(slack, 3))
    assert (await slack.service.core.workflow.get(1)).text == AGAIN


async def _revision_is(slack: SlackDriver, revision: int) -> bool:
    return (await slack.service.core.workflow.get(1)).revision == revision


async def test_slack_card_names_every_author_and_the_editor_cannot_approve(slack) -> None:
    await slack.command("/post", ROAD)
    ts = await slack.card_ts(1)
    await slack.submit("draft_edit_modal", {"draft_id": 1}, FIXED, APPROVER)
    [update] = await slack.fake.wait_for("chat.update")
    shown = block_text(update.args["blocks"])
    assert f"<@{AUTHOR}>, <@{APPROVER}> (edited)" in shown
    await slack.click("draft_approve", slack.button_value(1), APPROVER, ts)

    async def refused() -> bool:
        return any("cannot approve it yourself" in str(r.get("text")) for r in slack.responses())

    await eventually(refused)
    assert (await slack.service.core.workflow.get(1)).approvals == ()


# -- Teams --------------------------------------------------------------------------------

# The Teams driver of the Teams tests, which also validates every card the connector received.
teams = teams_tests.teams


async def test_teams_approve_on_a_card_whose_update_failed_is_refused(teams) -> None:
    await teams.say(f"post {ROAD}")
    card = await teams.card_id()
    old = approve_data(teams.cards()[0])
    teams.fake.fail_next_update(403)
    await teams.say(f"social edit 1 {FIXED}", by=ALICE)
    assert (await teams.service.core.workflow.get(1)).revision == 2
    assert teams.fake.updated() == []
    assert not any("Exception" in text for text in teams.texts())

    answer = await teams.click("draft_approve", old, card=card, by=BOB)
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    shown = card_text(answer["value"])
    assert "did not approve" in shown and FIXED in shown and ROAD not in shown
    draft = await teams.service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING and draft.approvals == ()

    await teams.react("like", card=card, by=BOB)
    assert any("did not approve" in text for text in teams.texts())
    assert (await teams.service.core.workflow.get(1)).approvals == ()

    approved = await teams.click("draft_approve", approve_data(answer["value"]), card=card, by=BOB)
    assert "Approved" in card_text(approved["value"])
    assert (await teams.service.core.workflow.get(1)).state is DraftState.APPROVED


async def test_teams_card_data_with_a_malformed_revision_is_refused_politely(teams) -> None:
    await teams.say(f"post {ROAD}")
    card = await teams.card_id()
    data = {**approve_data(teams.cards()[0]), "revision": "latest"}
    answer = await teams.click("draft_approve", data, card=card, by=BOB)
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert "not one of mine" in answer["value"]
    assert (await teams.service.core.workflow.get(1)).approvals == ()


async def test_teams_command_for_an_outdated_revision_answers_with_the_current_card(
    teams,
) -> None:
    await teams.say(f"post {ROAD}")
    await teams.say(f"social edit 1 {FIXED}")
    await teams.say("social approve 1 --revision 1", by=BOB)
    [answer] = [b for b in teams.fake.sent() if "did not approve" in str(b.get("text"))]
    assert FIXED in card_text(answer["attachments"][0]["content"])
    assert (await teams.service.core.workflow.get(1)).approvals == ()


async def test_a_teams_edit_from_an_outdated_card_saves_nothing_and_quotes_the_text(
    teams,
) -> None:
    await teams.say(f"post {ROAD}")
    card = await teams.card_id()
    await teams.say(f"social edit 1 {FIXED}", by=ALICE)
    stale = {"id": "1", "kind": "draft", "revision": 1, "text": AGAIN}
    answer = await teams.click("draft_edit", stale, card=card, by=BOB)
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert "did not save your text" in answer["value"] and AGAIN in answer["value"]
    draft = await teams.service.core.workflow.get(1)
    assert (draft.revision, draft.text) == (2, FIXED)
    current = {**stale, "revision": 2}
    saved = await teams.click("draft_edit", current, card=card, by=BOB)
    assert AGAIN in card_text(saved["value"])


async def test_teams_editor_is_an_author_and_cannot_approve(teams) -> None:
    await teams.say(f"post {ROAD}")
    card = await teams.card_id()
    edited = await teams.click("draft_edit", {"id": "1", "text": FIXED}, card=card, by=BOB)
    assert f"{ALICE}, {BOB} (edited)" in card_text(edited["value"])
    own = await teams.click("draft_approve", approve_data(edited["value"]), card=card, by=BOB)
    assert "you cannot approve it yourself" in own["value"]
    assert (await teams.service.core.workflow.get(1)).approvals == ()
