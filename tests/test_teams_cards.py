"""Every Adaptive Card the Teams adapter builds, for any draft or alert, is one Teams accepts.

Checked against the published Adaptive Cards 1.5 schema and Teams' documented rules (see
tests/adaptive_cards.py), with drafts in every state and alerts in every state, with long,
unicode and many-item inputs; and outside text is never placed where Teams renders markdown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.chat.teams.cards import adaptive_card
from adapters.chat.teams.chat import card_activity
from chatops.chat.cards import Card, alert_card, draft_card
from chatops.domain.types import (
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
from tests.adaptive_cards import (
    assert_fits_teams,
    assert_teams_card,
    markdown_strings,
    nodes,
    plain_strings,
    sizes,
)

ZONE = ZoneInfo("America/Chicago")
AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
# Text as it comes from outside: any script, markup look-alikes, emoji, controls.
WORDS = st.text(st.characters(exclude_categories=("Cs",)), max_size=300) | st.sampled_from(
    ["[Official form](https://evil.example)", "**URGENT**", "# Heading", "<at>x</at>", ""]
)
LONG = st.text(st.characters(exclude_categories=("Cs",)), min_size=1000, max_size=3000)
CJK = "".join(chr(0x4E00 + (i * 37) % 20000) for i in range(5000))


def activity_of(card: Card) -> dict[str, Any]:
    """The card as the SDK sends it: the Activity's JSON."""
    dumped: dict[str, Any] = card_activity(card).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return dumped


def assert_teams_accepts(card: Card) -> dict[str, Any]:
    content = adaptive_card(card)
    assert_teams_card(content)
    assert markdown_strings(content) == [], "outside text where Teams renders markdown"
    assert_fits_teams(activity_of(card))
    return content


findings = st.builds(
    Finding,
    code=st.sampled_from(["length", "link", "phone", "alt_text"]),
    severity=st.sampled_from(list(Severity)),
    message=WORDS,
    suggestion=WORDS,
    override=WORDS,
)
drafts = st.builds(
    Draft,
    id=st.integers(1, 2**31 - 1),
    kind=st.sampled_from(list(DraftKind)),
    state=st.sampled_from(list(DraftState)),
    network=st.just("x"),
    account=st.text(min_size=1, max_size=50),
    text=WORDS | LONG,
    author=WORDS,
    author_platform=st.just("teams"),
    created_at=st.just(AT),
    revision=st.integers(1, 50),
    required_approvals=st.integers(1, 5),
    scheduled_at=st.none() | st.just(AT),
    reply_to_id=st.none() | WORDS,
    reply_to_url=st.none() | st.just("https://x.com/resident/status/1(2)"),
    published_url=st.none() | st.just("https://x.com/PortAlderCity/status/123"),
    error=st.none() | WORDS,
    findings=st.lists(findings, max_size=25).map(tuple),
    approvals=st.lists(
        st.builds(
            Approval,
            approver=WORDS,
            platform=st.just("teams"),
            via=st.sampled_from(list(Via)),
            at=st.just(AT),
        ),
        max_size=6,
    ).map(tuple),
    media=st.lists(
        st.builds(MediaItem, url=st.just("https://example.gov/a.png"), alt_text=WORDS),
        max_size=12,
    ).map(tuple),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=drafts, label=st.sampled_from(["X", "Sandbox"]))
def test_draft_cards_in_every_state_are_valid_teams_cards(draft: Draft, label: str) -> None:
    content = assert_teams_accepts(draft_card(draft, zone=ZONE, labels=lambda network: label))
    shown = "\n".join(plain_strings(content))
    # In full, or (for inputs no card can hold) its start and a note saying it is shortened.
    assert draft.text in shown or ("shortened" in shown and draft.text[:20] in shown)


mentions = st.builds(
    Mention,
    network=st.just("x"),
    external_id=st.text(min_size=1, max_size=30),
    url=st.sampled_from(["https://x.com/a/status/1", "javascript:alert(1)", "not a url"]),
    author=st.builds(
        MentionAuthor,
        handle=WORDS,
        name=WORDS | LONG,
        followers=st.integers(0, 10**9),
        verified=st.booleans(),
    ),
    text=WORDS | LONG,
    created_at=st.just(AT),
    language=st.sampled_from(["", "en", "es", "zh"]),
)
alerts = st.builds(
    Alert,
    id=st.integers(1, 2**31 - 1),
    subscription_id=st.integers(1, 100),
    mention=st.builds(StoredMention, id=st.integers(1, 1000), mention=mentions),
    channel=st.just(ChannelRef("teams", "19:c@thread.tacv2", "tenant-1")),
    state=st.sampled_from(["open", "assigned", "handled"]),
    matched=st.lists(WORDS, max_size=20).map(tuple),
    assignee=st.none() | WORDS,
    handled_by=st.none() | WORDS,
    repeats=st.integers(0, 10_000),
    score=st.integers(0, 100),
    score_reasons=st.lists(WORDS, max_size=20).map(tuple),
    is_question=st.booleans(),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alert=alerts)
def test_alert_cards_in_every_state_are_valid_teams_cards(alert: Alert) -> None:
    content = assert_teams_accepts(alert_card(alert, zone=ZONE, labels=lambda network: "X"))
    links = [
        node["selectAction"]["url"]
        for node in _runs(content)
        if node.get("selectAction", {}).get("type") == "Action.OpenUrl"
    ]
    assert all(url.startswith("https://") for url in links), links


def _runs(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(content) if node.get("type") == "TextRun"]


def cjk_draft(text: str) -> Draft:
    return Draft(
        id=7,
        kind=DraftKind.POST,
        state=DraftState.PENDING,
        network="x",
        account="PortAlderCity",
        text=text,
        author="00000000-0000-0000-0000-00000000a11c",
        author_platform="teams",
        created_at=AT,
        revision=1,
        required_approvals=1,
    )


def test_a_5000_character_cjk_draft_fits_a_teams_card_with_its_text_in_full() -> None:
    card = draft_card(cjk_draft(CJK), zone=ZONE, labels=lambda network: "X")
    content = assert_teams_accepts(card)
    sent = json.dumps(activity_of(card), ensure_ascii=False)
    assert sent.count(CJK) == 1, "the draft text is sent once, in full"
    assert CJK in plain_strings(content)


def test_a_text_too_long_for_any_card_is_shortened_and_says_so() -> None:
    huge = CJK * 6
    content = assert_teams_accepts(
        draft_card(cjk_draft(huge), zone=ZONE, labels=lambda network: "X")
    )
    shown = "\n".join(plain_strings(content))
    assert huge[:2000] in shown and huge not in shown
    assert "shortened" in shown
    utf8, _ = sizes(content)
    assert utf8 > 20_000, "the card keeps as much of the text as fits"
