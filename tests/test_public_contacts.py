"""The agency's own contacts are not personal data: admins keep them in the settings and in
chat, drafts with them can be approved, and every card names its findings' codes so a warning
can be overridden by typing its code. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.chat.console.render import render_card
from adapters.chat.slack.blocks import card_blocks, fallback_text
from adapters.chat.teams.cards import adaptive_card
from chatops.chat.cards import draft_card
from chatops.domain.types import Draft, DraftKind, DraftState, Finding, Severity
from chatops.runtime.settings import Settings
from chatops.storage.audit import AuditLog
from tests.adaptive_cards import assert_teams_card, nodes
from tests.block_kit import message_problems
from tests.harness import unwrapped

HOTLINE = "/post Sandbag hotline: call 503-823-4000, or write to info@portalder.gov."
AGENCY: dict[str, Any] = {
    "admins": ("admin",),
    "public_contacts": ("(503) 823-4000", "portalder.gov"),
}


def findings_of(shown: str) -> list[str]:
    """The finding lines of the console card just shown, `severity [code]: message`."""
    return [
        line.removeprefix("│   - ").split(":")[0]
        for line in shown.splitlines()
        if line.startswith("│   - ")
    ]


async def test_the_agencys_hotline_and_address_can_be_posted(converse) -> None:
    """Before, both were blocking personal data that no one could override."""
    chat = await converse(user="alice", **AGENCY)
    shown = await chat.say(HOTLINE)
    assert "Findings: none" in shown
    assert "State: Published" in await chat.say("/as admin", "/social approve 1")
    assert [text for _, text in await chat.service.social.posts()] == [
        HOTLINE.removeprefix("/post ")
    ]


@pytest.mark.parametrize(
    "written", ["(503) 823-4000", "+1 503 823 4000", "503.823.4000", "tel:+1-503-823-4000"]
)
async def test_the_hotline_is_one_number_however_it_is_written(converse, written: str) -> None:
    chat = await converse(user="alice", **AGENCY)
    assert "Findings: none" in await chat.say(f"/post Call {written} for sandbags.")


async def test_other_numbers_and_addresses_still_block(converse) -> None:
    chat = await converse(user="alice", **AGENCY)
    shown = await chat.say(
        "/post Call 503-823-4001 or write to info@portalder.gov.evil.example "
        "or jane@notportalder.gov; press: press@news.portalder.gov"
    )
    assert findings_of(shown) == [
        "BLOCKING [personal_phone]",
        "BLOCKING [personal_email]",
        "BLOCKING [personal_email]",
    ]
    assert "cannot be approved yet" in await chat.say("/as admin", "/social approve 1")


async def test_admins_keep_contacts_in_chat_and_each_change_is_audited(converse) -> None:
    chat = await converse(user="alice", **AGENCY)
    blocked = await chat.say("/post Flood desk: 503-555-0142, floods@countyoem.org")
    assert findings_of(blocked) == ["BLOCKING [personal_phone]", "BLOCKING [personal_email]"]
    assert "`/social contacts add NUMBER`" in unwrapped(blocked)

    refused = await chat.say("/social contacts add 503-555-0142")
    assert "Changing the agency's public contacts needs the admin role" in refused
    assert "is now a public contact" not in refused
    added = await chat.say(
        "/as admin", "/social contacts add (503) 555-0142", "/social contacts add countyoem.org"
    )
    assert "+1 503-555-0142 is now a public contact" in added
    assert "countyoem.org is now a public contact" in added
    assert "already a public contact" in await chat.say("/social contacts add +15035550142")
    assert "already a public contact" in await chat.say("/social contacts add 503-823-4000")

    listed = await chat.say("/as alice", "/social contacts")
    assert "+1 503-823-4000 (phone, set in CHATOPS_PUBLIC_CONTACTS)" in listed
    assert "+1 503-555-0142 (phone)" in listed
    assert "countyoem.org (domain: every address at it and its subdomains)" in listed

    assert "Findings: none" in await chat.say(
        "/post Flood desk: 503-555-0142, floods@countyoem.org"
    )
    # the waiting draft is checked again when edited
    assert "Findings: none" in await chat.say(
        "/social edit 1 Flood desk: 503-555-0142, floods@countyoem.org"
    )

    assert "needs the admin role" in await chat.say("/social contacts remove 503-555-0142")
    removed = await chat.say("/as admin", "/social contacts remove 503 555 0142")
    assert "+1 503-555-0142 is no longer a public contact" in removed
    assert "set in CHATOPS_PUBLIC_CONTACTS; remove it there" in await chat.say(
        "/social contacts remove 503-823-4000"
    )
    again = await chat.say("/as alice", "/post Flood desk: 503-555-0142")
    assert findings_of(again) == ["BLOCKING [personal_phone]"]

    async with chat.service.db.transaction() as session:
        events = [
            (e.actor, e.action, e.details["what"])
            for e in await AuditLog(session).events()
            if e.action.startswith("public_contact")
        ]
    assert events == [
        ("admin", "public_contact_added", {"kind": "phone", "contact": "+15035550142"}),
        ("admin", "public_contact_added", {"kind": "domain", "contact": "countyoem.org"}),
        ("admin", "public_contact_removed", {"kind": "phone", "contact": "+15035550142"}),
    ]


async def test_what_is_not_a_contact_is_refused_with_examples(converse) -> None:
    chat = await converse(user="admin", admins=("admin",))
    refused = await chat.say("/social contacts add 503-55")
    assert "'503-55' is not a phone number (valid in US), an email address or a domain." in refused
    assert "`/social contacts add info@portalder.gov`" in refused
    assert "needs a phone number, an email address or a domain" in await chat.say(
        "/social contacts add"
    )
    assert "No public contacts yet" in await chat.say("/social contacts")


async def test_a_bidirectional_override_blocks_the_draft(converse) -> None:
    """U+202E shows "pay 500" as "pay 005": the post would read otherwise than the card."""
    chat = await converse(user="alice", **AGENCY)
    shown = await chat.say("/post Fines: pay \u202e500\u202c at City Hall.")
    assert findings_of(shown) == ["BLOCKING [bidi_control]"]
    assert "U+202C, U+202E" in shown
    assert "cannot be approved yet" in await chat.say("/as admin", "/social approve 1")
    marks = await chat.say("/as alice", "/post \u05e9\u05dc\u05d5\u05dd\u200f 503-823-4000")
    assert "Findings: none" in marks  # a right-to-left mark is ordinary right-to-left text


async def test_the_card_names_each_code_and_the_override_hint_types_it(converse) -> None:
    chat = await converse(user="alice", link_allowlist=("portalder.gov",), **AGENCY)
    shown = await chat.say("/post Details: https://county.example.com/closures 503-555-0142")
    assert findings_of(shown) == ["warning [unapproved_link]", "BLOCKING [personal_phone]"]
    assert "`/social override 1 unapproved_link REASON`" in unwrapped(shown)
    await chat.say("/social edit 1 Details: https://county.example.com/closures")
    typed = unwrapped(
        await chat.say("/as admin", "/social override 1 unapproved_link County partner site")
    )
    assert "accepted by admin: County partner site" in typed
    assert "/social override 1" not in typed.split("accepted by")[1]  # nothing left to accept
    hint = await chat.say("/social override 1 personal_phone it is ours")
    assert "Draft 1 has no open warning 'personal_phone'" in hint


ZONE = ZoneInfo("America/Chicago")
AT = datetime(2026, 11, 20, 15, tzinfo=UTC)
FINDINGS = (
    Finding("personal_phone", Severity.BLOCKING, "A phone number (ending in 42).", "Remove it."),
    Finding("unapproved_link", Severity.WARNING, "A link goes to evil.example.", "Check it."),
)


def a_draft() -> Draft:
    return Draft(
        id=7,
        kind=DraftKind.POST,
        state=DraftState.PENDING,
        network="sandbox",
        account="PortAlderCity",
        text="Call 503-555-0142, see https://evil.example",
        author="alice",
        author_platform="slack",
        created_at=AT,
        revision=1,
        required_approvals=1,
        findings=FINDINGS,
    )


def test_every_platform_shows_the_codes_in_a_card_it_accepts() -> None:
    card = draft_card(a_draft(), zone=ZONE, labels=lambda network: "Sandbox")
    assert card.footer.endswith("`/social override 7 unapproved_link REASON`.")

    blocks = [block.to_dict() for block in card_blocks(card)]
    assert message_problems({"text": fallback_text(card), "blocks": blocks}) == []
    slack = str(blocks)
    assert "*Blocking* `personal_phone`: A phone number" in slack
    assert "*Warning* `unapproved_link`: A link goes" in slack

    teams = adaptive_card(card)
    assert_teams_card(teams)
    texts = [str(node.get("text", "")) for node in nodes(teams)]
    assert any(t.startswith("⛔ Blocking [personal_phone]: A phone number") for t in texts)
    assert any(t.startswith("⚠️ Warning [unapproved_link]: A link goes") for t in texts)

    console = render_card(card, reaction="white_check_mark")
    assert "│   - BLOCKING [personal_phone]: A phone number" in console
    assert "│   - warning [unapproved_link]: A link goes" in console


def test_bad_public_contacts_are_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="CHATOPS_PUBLIC_CONTACTS: '503-823-40' is not a phone"):
        Settings(_env_file=None, public_contacts="503-823-4000, 503-823-40")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="'info@portalder' is not"):
        Settings(_env_file=None, public_contacts="info@portalder")  # type: ignore[call-arg]
    london = Settings(  # type: ignore[call-arg]
        _env_file=None, phone_regions="GB", public_contacts="020 7946 0958, info@x.gov.uk"
    )
    assert london.public_contacts == ("020 7946 0958", "info@x.gov.uk")
