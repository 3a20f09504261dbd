"""Draft → approve → publish, as people do it in the console, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from chatops.domain.types import DraftState
from chatops.storage.audit import AuditLog
from tests.harness import unwrapped

ROAD = "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."


async def test_post_approve_by_reaction_publishes_once(converse) -> None:
    chat = await converse(user="alice")
    created = await chat.say(ROAD)
    assert "Post draft 1" in created
    assert "Author: alice" in created
    assert "Waiting for approval" in created

    approved = await chat.say("/as bob", "/react 1 white_check_mark")
    assert "approved by bob" in approved
    assert "State: Published" in approved
    assert "https://sandbox.invalid/PortAlderCity/status/" in approved

    queue = await chat.say("/social queue")
    assert "queue is empty" in queue

    posts = await chat.service.social.posts()
    assert [text for _, text in posts] == [ROAD.removeprefix("/post ")]
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PUBLISHED
    assert draft.published_url == posts[0][0].url


async def test_author_cannot_approve_own_draft(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD)
    refused = await chat.say("/as alice", "/react 1 white_check_mark")
    assert "You wrote draft 1, so you cannot approve it yourself" in refused
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING
    assert draft.approvals == ()
    assert "[pending, 0/1 approvals]" in await chat.say("/social queue")
    assert await chat.service.social.posts() == []


async def test_button_command_and_reaction_are_one_approval(converse) -> None:
    chat = await converse(user="alice", required_approvals=2)
    await chat.say(ROAD, "/as bob")
    first = await chat.say("/social approve 1")
    assert "1/2 approvals" in first
    again = await chat.say("/react 1 white_check_mark")
    assert "already approved" in again
    draft = await chat.service.core.workflow.get(1)
    assert draft.approvers == ("bob",)
    assert draft.state is DraftState.PENDING

    done = await chat.say("/as carol", "/react 1 +1")
    assert "State: Published" in done
    assert len(await chat.service.social.posts()) == 1


async def test_non_approver_refused_when_approvers_are_configured(converse) -> None:
    chat = await converse(user="alice", approvers=("carol",))
    await chat.say(ROAD)
    refused = await chat.say("/as bob", "/social approve 1")
    assert "needs the approver role" in refused
    assert "/social roles grant" in refused
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PENDING
    assert "State: Published" in await chat.say("/as carol", "/react 1 heavy_check_mark")


async def test_removed_reaction_withdraws_approval_while_pending(converse) -> None:
    chat = await converse(user="alice", required_approvals=2)
    await chat.say(ROAD, "/as bob", "/react 1 white_check_mark")
    withdrawn = await chat.say("/unreact 1 white_check_mark")
    assert "withdrew" in withdrawn
    assert (await chat.service.core.workflow.get(1)).approvals == ()


async def test_other_reactions_do_not_approve(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD)
    said = await chat.say("/as bob", "/react 1 eyes")
    assert "Approval reactions" in said
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PENDING


async def test_edit_clears_approvals_and_needs_new_ones(converse) -> None:
    chat = await converse(user="alice", required_approvals=2)
    await chat.say(ROAD, "/as bob", "/social approve 1")
    edited = await chat.say("/as alice", "/social edit 1 Main St closed tonight 9pm-6am.")
    assert "Approvals were cleared" in edited
    draft = await chat.service.core.workflow.get(1)
    assert draft.approvals == ()
    assert draft.text == "Main St closed tonight 9pm-6am."
    assert draft.revision == 2


async def test_edit_of_approved_scheduled_draft_returns_it_to_pending(converse) -> None:
    chat = await converse(user="alice")
    await chat.say('/post --at "tomorrow 9am" Library opens late.', "/as bob", "/social approve 1")
    assert (await chat.service.core.workflow.get(1)).state is DraftState.APPROVED
    await chat.say("/social edit 1 Library opens at noon.")
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING
    chat.clock.advance(timedelta(days=2))
    await chat.tick()
    assert await chat.service.social.posts() == []


async def test_reject_with_reason_and_cancel(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD, "/post Second post")
    rejected = await chat.say("/as bob", "/social reject 1 Wrong detour street")
    assert "rejected by bob: Wrong detour street" in rejected
    assert (await chat.service.core.workflow.get(1)).state is DraftState.REJECTED
    late = await chat.say("/social approve 1")
    assert "cannot be approved: it was rejected" in late

    cancelled = await chat.say("/as alice", "/social cancel 2")
    assert "cancelled by alice" in cancelled
    assert "queue is empty" in await chat.say("/social queue")


async def test_only_author_or_approver_may_cancel(converse) -> None:
    chat = await converse(user="alice", approvers=("carol",))
    await chat.say(ROAD)
    refused = await chat.say("/as mallory", "/social cancel 1")
    assert "Only the author of draft 1 or an approver" in refused
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PENDING


async def test_scheduled_post_waits_for_its_time(converse) -> None:
    chat = await converse(user="alice", timezone="America/Chicago")
    said = await chat.say('/post --at "tomorrow 9am" Council meeting at 6pm tonight.')
    assert "Scheduled: Sat 21 Nov 2026 09:00 CST" in said
    approved = await chat.say("/as bob", "/react 1 white_check_mark")
    assert "scheduled" in approved
    assert "State: Approved" in approved
    assert (await chat.service.core.workflow.get(1)).state is DraftState.APPROVED

    chat.clock.advance(timedelta(hours=23, minutes=59))  # Saturday 08:59 in Chicago
    await chat.tick()
    assert await chat.service.social.posts() == []
    assert "[approved, scheduled Sat 21 Nov 2026 09:00 CST]" in await chat.say("/social queue")

    chat.clock.advance(timedelta(minutes=1))
    published = await chat.tick()
    assert "State: Published" in published
    assert len(await chat.service.social.posts()) == 1
    await chat.tick()
    assert len(await chat.service.social.posts()) == 1


async def test_schedule_in_the_past_or_unreadable_is_refused_with_an_example(converse) -> None:
    chat = await converse(user="alice")
    past = await chat.say('/post --at "yesterday 9am" Too late')
    assert "in the past" in past
    assert '--at "tomorrow 9am"' in past
    garbled = await chat.say('/post --at "the day after never" Hello')
    assert "could not read 'the day after never' as a time" in garbled
    assert "queue is empty" in await chat.say("/social queue")


async def test_too_long_draft_has_a_blocking_finding_and_cannot_be_approved(converse) -> None:
    chat = await converse(user="alice")
    shown = await chat.say("/post " + "Flood update " * 30)
    assert "BLOCKING" in shown
    assert "over the limit" in shown
    refused = await chat.say("/as bob", "/react 1 white_check_mark")
    assert "cannot be approved yet" in refused
    assert "/social edit 1" in refused
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PENDING
    await chat.say("/as alice", "/social edit 1 Flood update: sandbags at Pier 3.")
    assert "State: Published" in await chat.say("/as bob", "/social approve 1")


async def test_an_edit_too_long_to_be_a_post_is_refused_and_the_draft_kept(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/post Sandbags at Pier 3.")
    refused = await chat.say("/social edit 1 " + "a." * 3000)
    assert "The text is 6,000 characters; drafts can be at most 2,000" in refused
    draft = await chat.service.core.workflow.get(1)
    assert (draft.text, draft.revision) == ("Sandbags at Pier 3.", 1)


async def test_reply_to_a_sandbox_mention(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say(
        "/reply sbx-0001 Main St reopens at 6am. The clinic is reachable via Oak Ave."
    )
    assert "Reply draft 1" in said
    assert "In reply to: https://sandbox.invalid/mariagonzalez_pa/status/sbx-0001" in said
    await chat.say("/as bob", "/social approve 1")
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PUBLISHED
    assert draft.reply_to_id == "sbx-0001"
    missing = await chat.say("/reply sbx-9999 hello")
    assert "could not find a mention 'sbx-9999'" in missing


async def test_unknown_account_and_bad_arguments_explain_themselves(converse) -> None:
    chat = await converse(user="alice")
    unknown = await chat.say("/post --account @nobody Hi")
    assert "@nobody is not an account I can post from" in unknown
    assert "sandbox:@PortAlderCity" in unknown
    assert "Example" in await chat.say("/post")
    assert "should be a number" in await chat.say("/social approve three")
    assert "needs a draft id" in await chat.say("/social approve")
    assert "I don't know `/social frobnicate`" in await chat.say("/social frobnicate")
    assert "I don't know /nope" in await chat.say("/nope")
    assert "There is no draft 42" in await chat.say("/as bob", "/social approve 42")
    assert "Commands start with /" in await chat.say("hello")


async def test_post_on_another_account(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say("/post --account sandbox:@portalderwater Water main repaired.")
    assert "@PortAlderWater on Sandbox" in said


async def test_help_lists_every_verb_with_an_example(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say("/social help")
    for verb in chat.service.registry.verbs:
        assert verb.usage in said
        assert verb.example in said
    for expected in ("/post", "/reply", "/social queue", "/alerts subscribe", "/social roles"):
        assert expected in said


async def test_every_state_change_is_audited(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD, "/as bob", "/react 1 white_check_mark")
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events(draft_id=1)
    assert [(e.action, e.actor) for e in events] == [
        ("created", "alice"),
        ("approval", "bob"),
        ("approved", "bob"),
        ("publishing", "chatops"),
        ("published", "chatops"),
    ]
    assert events[1].details["via"] == "reaction"
    assert events[4].details["url"].startswith("https://sandbox.invalid/")
    shown = await chat.say("/social audit")
    assert "alice (console)  created draft 1" in shown
    assert "published draft 1" in shown


async def test_an_image_without_alt_text_blocks_approval_until_described(converse) -> None:
    chat = await converse(user="alice")
    shown = unwrapped(
        await chat.say(
            "/post --image https://example.gov/detour.png --image https://example.gov/map.png "
            '--alt "Map of the Oak Ave detour" Detour tonight.'
        )
    )
    assert "Image 1: https://example.gov/detour.png (NO ALT TEXT)" in shown
    assert "Image 2: https://example.gov/map.png (alt text: Map of the Oak Ave detour)" in shown
    assert "Image 1 has no alt text" in shown
    refused = await chat.say("/as bob", "/social approve 1")
    assert "cannot be approved yet" in refused
    described = unwrapped(
        await chat.say("/as alice", "/social alt 1 1 Orange detour sign on Main St")
    )
    assert "described image 1 of draft 1" in described
    assert (
        "Image 1: https://example.gov/detour.png (alt text: Orange detour sign on Main St)"
        in described
    )
    assert "State: Published" in await chat.say("/as bob", "/social approve 1")
    [(_post, text)] = await chat.service.social.posts()
    assert text == "Detour tonight."
    assert "no image 3" in await chat.say(
        "/as alice", "/post --image https://a.gov/x.png --alt x Hi", "/social alt 2 3 nope"
    )
    assert "describes the `--image` before it" in await chat.say('/post --alt "lonely" Hello')
    assert "Image 1 cannot be used: its address is not a web address" in await chat.say(
        "/post --image /etc/passwd --alt x Hi"
    )
    assert "--at is given twice" in await chat.say('/post --at "tomorrow 9am" --at "friday 9am" Hi')
