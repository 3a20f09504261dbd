"""Dead ends a new team met in the console: a rejected draft revised and resubmitted, the
alert desk by command, `--at now`, and replies that say what is true. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from chatops.domain.types import DraftState
from chatops.listening.rules import parse_rule
from chatops.storage.audit import AuditLog
from chatops.storage.mentions import MentionStore
from tests.harness import unwrapped
from tests.test_listening_trust import mention

ROAD = "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."


async def test_a_rejected_draft_is_revised_and_resubmitted(converse) -> None:
    chat = await converse(user="alice", required_approvals=2)
    await chat.say(ROAD, "/as bob", "/social approve 1")
    rejected = await chat.say("/as carol", "/social reject 1 Wrong detour street")
    assert "State: Rejected" in rejected
    assert "Revise it with Edit or `/social edit 1 NEW TEXT` to resubmit it." in rejected

    revised = await chat.say("/as alice", "/social edit 1 Road closure on Main St. Detour via Elm.")
    assert "start a new draft" not in revised.lower()
    assert "new revision, waiting for approval again" in revised
    assert "Approvals were cleared" in revised
    assert "(updated)" in revised and "State: Waiting for approval" in revised
    draft = await chat.service.core.workflow.get(1)
    assert (draft.state, draft.revision, draft.approvals) == (DraftState.PENDING, 2, ())
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events(draft_id=1)
    edited = [e for e in events if e.action == "edited"]
    assert [e.details.get("resubmitted") for e in edited] == [True]

    # Approved afresh, by two people, it publishes the revised text.
    await chat.say("/as bob", "/social approve 1")
    published = await chat.say("/as carol", "/social approve 1")
    assert "State: Published" in published
    assert [text for _, text in await chat.service.social.posts()] == [
        "Road closure on Main St. Detour via Elm."
    ]


async def test_resubmitting_goes_through_the_one_authorization_check(converse) -> None:
    chat = await converse(user="alice", approvers=("carol",))
    await chat.say(ROAD, "/as carol", "/social reject 1 Not yet")
    refused = await chat.say("/as mallory", "/social edit 1 Something else entirely.")
    assert "Only the author of draft 1 or an approver can edit it" in refused
    assert (await chat.service.core.workflow.get(1)).state is DraftState.REJECTED
    late = await chat.say("/as carol", "/social approve 1")
    assert "it was rejected" in late
    assert "Revise it with `/social edit 1 NEW TEXT`" in late


async def _question(chat, text: str = "@PortAlderCity where can I get sandbags?"):  # type: ignore[no-untyped-def]
    await chat.say("/alerts subscribe sandbags")
    asked = mention(chat, text, handle="marsh_resident")
    await chat.service.pipeline.ingest([asked])
    return asked, await chat.tick()


async def test_the_console_assigns_and_closes_alerts_by_command(converse) -> None:
    chat = await converse(user="alice")
    _, card = await _question(chat)
    assert "/alerts assign 1 · /alerts handled 1" in card

    mine = await chat.say("/alerts assign 1")
    assert "Alert 1 is assigned to you." in mine
    assert "Status: Assigned to alice" in mine  # the card, updated
    theirs = await chat.say("/alerts assign 1 @bob")
    assert "Alert 1 is assigned to bob." in theirs
    assert "Status: Assigned to bob" in theirs

    closed = await chat.say("/as bob", "/alerts handled 1")
    assert "Alert 1 is handled, by bob." in closed
    assert "Status: Handled by bob" in closed
    assert "already handled by bob" in await chat.say("/alerts handled 1")
    async with chat.service.db.transaction() as session:
        alert = await MentionStore(session).alert(1)
        events = await AuditLog(session).events()
    assert alert is not None and (alert.state, alert.assignee) == ("handled", "bob")
    assigned = [e.details.get("assignee") for e in events if e.action == "alert_assigned"]
    assert assigned == ["alice", "bob"]

    assert "There is no alert 9" in await chat.say("/alerts assign 9")
    assert "needs an alert id" in await chat.say("/alerts handled")


async def test_the_inbox_lists_unanswered_questions_with_their_deadlines(converse) -> None:
    chat = await converse(user="alice")
    assert "No question in this channel is waiting" in await chat.say("/alerts inbox")
    asked, _ = await _question(chat)
    inbox = await chat.say("/alerts inbox")
    assert "Alert 1: @marsh_resident: “@PortAlderCity where can I get sandbags?”" in inbox
    # Friday 15:00 UTC plus two business hours.
    assert "due Fri 20 Nov 2026 17:00 UTC; nobody assigned). " in inbox
    assert f"Reply with `/reply {asked.external_id} TEXT`" in inbox

    await chat.say("/alerts assign 1")
    chat.clock.advance(timedelta(hours=3))
    late = await chat.say("/alerts inbox")
    assert "17:00 UTC (overdue); assigned to alice" in late

    await chat.say("/alerts handled 1")
    assert "No question in this channel is waiting" in await chat.say("/alerts inbox")


async def test_help_lists_the_desk_verbs(converse) -> None:
    chat = await converse(user="alice")
    help_ = await chat.say("/social help")
    for usage in ("/alerts inbox", "/alerts assign ALERT [@person]", "/alerts handled ALERT"):
        assert f"`{usage}`" in help_


async def test_help_lists_exactly_the_sentiments_the_parser_accepts(converse) -> None:
    chat = await converse(user="alice")
    help_ = await chat.say("/social help")
    listed = re.search(r"sentiment:([a-z|]+)", help_)
    assert listed is not None
    values = listed.group(1).split("|")
    for value in values:
        parse_rule(f"sentiment:{value}")  # each one listed is accepted
    for value in ("negative", "neutral", "positive"):
        parse_rule(f"sentiment:{value}")
        assert value in values  # and each one accepted is listed


async def test_at_now_means_as_soon_as_approved(converse) -> None:
    chat = await converse(user="alice")
    created = await chat.say("/post --at now Sandbags at Pier 3 until 8pm.")
    assert "Post draft 1" in created
    assert "in the past" not in created
    assert "Scheduled:" not in created
    assert "State: Published" in await chat.say("/as bob", "/social approve 1")
    assert len(await chat.service.social.posts()) == 1


async def test_a_non_admin_adding_a_term_is_told_about_terms(converse) -> None:
    chat = await converse(user="alice", admins=("alice",))
    refused = await chat.say("/as bob", '/social terms add "shelter in place" --reason "OEM only"')
    assert "Changing the sensitive terms needs the admin role" in refused
    assert "scores high" not in refused
    assert "No sensitive terms yet" in await chat.say("/social terms")


async def test_an_unknown_watch_list_is_named_with_the_lists(converse) -> None:
    chat = await converse(user="alice", admins=("alice",))
    listing = await chat.say("/social watch add reporters @ledger_maya")
    assert "There is no watch list 'reporters': the lists are journalists, officials and " in (
        listing
    )
    assert "needs a list" not in listing
    assert "needs a list and a handle" in await chat.say("/social watch add journalists")


async def test_an_urgent_term_added_twice_says_so_in_a_sentence(converse) -> None:
    chat = await converse(user="alice", admins=("alice",))
    assert '"mudslide" now scores as urgent.' in await chat.say("/social urgent add mudslide")
    again = await chat.say("/social urgent add mudslide")
    assert '"mudslide" already scores as urgent.' in again
    assert "already did" not in again


async def test_stats_without_answered_questions_say_so(converse) -> None:
    chat = await converse(user="alice")
    stats = await chat.say("/social stats")
    assert "Last 7 days: no question was answered." in stats
    assert "Last 30 days: no question was answered." in stats
    assert "median no" not in stats


async def test_a_negative_or_zero_id_must_be_positive(converse) -> None:
    chat = await converse(user="alice")
    negative = await chat.say("/social approve -1")
    assert "The draft id must be a positive number (they start at 1), not -1." in negative
    assert "should be a number" not in negative
    assert "must be a positive number" in await chat.say("/alerts unsubscribe 0")
    assert "should be a number, not 'three'" in await chat.say("/social approve three")


async def test_roles_say_who_may_approve_as_configured(converse) -> None:
    configured = await converse(user="alice", approvers=("carol",))
    said = await configured.say("/social roles")
    assert "carol: approver (CHATOPS_APPROVERS)" in said
    assert "only the approvers and admins listed here may approve" in said
    assert "every user may approve" not in said

    open_ = await converse(user="alice")
    assert "every user may approve (never their own draft) and administer" in await open_.say(
        "/social roles"
    )


async def test_the_alt_text_card_names_the_alt_command(converse) -> None:
    chat = await converse(user="alice")
    card = unwrapped(
        await chat.say("/post --image https://example.gov/detour.png Detour via Oak Ave.")
    )
    assert "describe image N with `/social alt 1 N DESCRIPTION`" in card
    assert "use Edit" not in card
    assert "edit the text" not in card  # the text itself is fine
    described = await chat.say("/social alt 1 1 Map of the detour via Oak Ave")
    assert "Cannot be approved" not in described.rsplit("(updated)", 1)[-1]


async def test_the_receipt_names_only_the_fix_the_draft_needs(converse) -> None:
    """Before: every blocked draft's receipt offered `/social alt`, even with no image."""
    chat = await converse(user="alice")
    said = unwrapped(await chat.say("/post Call 503-823-4001 now"))
    receipt = said.split("(only you) ", 1)[1]
    assert "It cannot be approved yet: edit the text" in receipt
    assert "/social alt" not in receipt
    imaged = unwrapped(await chat.say("/post --image https://example.gov/detour.png Detour."))
    assert "describe image N with `/social alt 2 N DESCRIPTION`" in imaged.split("(only you) ")[1]
