"""The record of decisions: complete, and append-only in the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from chatops.storage.audit import AuditLog


async def test_every_event_says_who_what_when_where_and_the_text_then(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(
        "/post Road closure on Main St.", "/as bob", "/social edit 1 Road closed on Main St."
    )
    await chat.say("/as carol", "/social approve 1")  # bob changed it, so he cannot approve it
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events(draft_id=1)
    by_action = {event.action: event for event in events}
    assert by_action["created"].details["text"] == "Road closure on Main St."
    assert by_action["edited"].details["old_text"] == "Road closure on Main St."
    assert by_action["approved"].details["text"] == "Road closed on Main St."
    for action in ("created", "edited", "approval", "approved"):
        event = by_action[action]
        assert event.channel == "console" and event.platform == "console" and event.at
    assert by_action["created"].actor == "alice" and by_action["approval"].actor == "carol"
    assert by_action["approval"].details["revision"] == by_action["edited"].details["revision"]
    assert by_action["published"].details["url"].startswith("https://sandbox.invalid/")
    assert by_action["published"].details["text"] == "Road closed on Main St."


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"]
)
async def test_the_audit_log_refuses_updates_and_deletes(converse, statement: str) -> None:
    chat = await converse(user="alice")
    await chat.say("/post Something to record.")
    with pytest.raises(DBAPIError, match="append-only"):
        async with chat.service.db.transaction() as session:
            await session.execute(text(statement))
    async with chat.service.db.transaction() as session:
        [event] = await AuditLog(session).events()
    assert event.actor == "alice"


async def test_postgres_refuses_truncate_too(postgres_url: str) -> None:
    from chatops.storage.database import Database

    db = Database(postgres_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text("TRUNCATE audit_events"))
    finally:
        await db.dispose()


async def test_compliance_findings_on_the_card_and_an_audited_override(converse) -> None:
    chat = await converse(user="alice", admins=("admin",), link_allowlist=("portalder.gov",))
    shown = await chat.say("/post Questions? Email jane.doe@example.org or call 503-555-0142.")
    assert "BLOCKING: " in shown and "j***@example.org" in shown
    assert "jane.doe@example.org" not in shown.split("│ Findings:")[1]
    assert "cannot be approved yet" in await chat.say("/as admin", "/social approve 1")

    refused = await chat.say("/as bob", '/social terms add "shelter in place" --reason "Only OEM"')
    assert "needs the admin role" in refused
    await chat.say(
        "/as admin", '/social terms add "shelter in place" --reason "Only OEM may say it"'
    )
    blocked = await chat.say("/as alice", "/post Please shelter in place until 6pm.")
    assert "Only OEM may say it" in blocked and "BLOCKING" in blocked

    warned = await chat.say("/post Details at https://county.example.com/closures #PORTALDERFLOOD")
    assert "warning: " in warned
    not_admin = await chat.say("/social override 3 unapproved_link Partner site")
    assert "needs the admin role" in not_admin
    accepted = await chat.say("/as admin", "/social override 3 unapproved_link County partner site")
    assert "accepted by admin: County partner site" in accepted
    assert "Blocking findings cannot be overridden" in await chat.say(
        "/social override 1 personal_email ok"
    )
    async with chat.service.db.transaction() as session:
        [override] = [
            e for e in await AuditLog(session).events() if e.action == "warning_overridden"
        ]
    assert override.details["reason"] == "County partner site" and override.actor == "admin"
