"""Core cards as Adaptive Cards 1.5 (Action.Execute): pure translation to JSON.

Outside text is data: every string that comes from the core `Card` (title, the post or
mention text, field values, findings, names, footer) becomes a text run by `plain_run`
(plain.py), which Teams shows as written. The card writes no markdown of its own either; its
own link ("View the live post") is a text run that opens the URL, and only an http(s) URL.

Universal Actions: the card is version 1.5 and each `Action.Execute` has an `Action.Submit`
fallback with the same data plus its verb, for clients without Universal Actions (they send it
as a message; handlers.py takes it as the same click).

Size: Teams refuses a card over about 28 KB. The draft text is shown once, and pre-filled in
the Edit box only while the card stays within the budget; a card too big even then has its
longest texts shortened, each with a note saying how much is not shown.
"""

from __future__ import annotations

import json
import re
from typing import Any

from adapters.chat.teams.plain import plain_run
from chatops.chat.cards import Card
from chatops.domain.types import Severity

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
REASON_INPUT = "reason"
TEXT_INPUT = "text"
# The key under which an Action.Submit fallback carries its verb (Execute has its own field).
FALLBACK_VERB = "verb"
# Teams' ~28 KB card limit, less room for the activity around the card (ids, addresses).
CARD_BUDGET_BYTES = 26_000
# Links longer than this are shown as text (no browser or Teams client takes them whole).
MAX_LINK_LENGTH = 2000


def adaptive_card(card: Card) -> dict[str, Any]:
    """The card's facts, findings and buttons; Reject and Edit open their own input."""
    content = _card(card, prefill=True, limit=None)
    if _size(content) <= CARD_BUDGET_BYTES:
        return content
    content = _card(card, prefill=False, limit=None)
    if _size(content) <= CARD_BUDGET_BYTES:
        return content
    return _card(card, prefill=False, limit=_largest_limit(card))


def attachment(card: Card) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": adaptive_card(card)}


def _largest_limit(card: Card) -> int:
    """The longest length every outside text may keep for the card to fit (binary search)."""
    texts = [card.title, card.body, card.footer, card.link or ""]
    texts += [text for field in card.fields for text in (field.label, field.value)]
    texts += [text for f in card.findings for text in (f.message, f.suggestion, f.override)]
    low, high = 0, max(len(text) for text in texts) + 100
    while low < high:
        middle = (low + high + 1) // 2
        if _size(_card(card, prefill=False, limit=middle)) <= CARD_BUDGET_BYTES:
            low = middle
        else:
            high = middle - 1
    return low


def _size(content: dict[str, Any]) -> int:
    """The card's JSON size as Teams counts it: the larger of its UTF-8 and UTF-16 sizes."""
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return max(len(text.encode("utf-8")), len(text.encode("utf-16-le")))


def _card(card: Card, *, prefill: bool, limit: int | None) -> dict[str, Any]:
    title = card.title if not card.badge else f"{card.title} [{card.badge}]"
    body: list[dict[str, Any]] = [
        _line(plain_run(title, limit=limit, weight="Bolder", size="Medium")),
    ]
    if card.body:
        body.append(_line(plain_run(card.body, limit=limit)))
    for field in card.fields:
        body.append(
            _line(
                plain_run(f"{field.label}: ", limit=limit, weight="Bolder"),
                plain_run(field.value, limit=limit),
                spacing="None",
            )
        )
    if card.kind == "draft":
        body += _findings(card, limit)
    if card.link:
        label = "View the live post" if card.kind == "draft" else "Open the mention"
        body.append(_line(_link(label, card.link, limit)))
    if card.footer:
        body.append(_line(plain_run(card.footer, limit=limit, isSubtle=True)))
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "actions": [
            _action(
                card,
                action.action_id,
                action.label,
                action.value,
                action.style,
                action.revision,
                prefill,
            )
            for action in card.actions
        ],
    }


def _line(*runs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **extra}


def _link(label: str, url: str, limit: int | None) -> dict[str, Any]:
    """The card's own link; a URL that is not http(s) is shown, never made clickable."""
    if len(url) > MAX_LINK_LENGTH or not re.match(r"https?://[^\s]+\Z", url, re.IGNORECASE):
        return plain_run(f"{label}: {url}", limit=limit)
    return {**plain_run(label), "selectAction": {"type": "Action.OpenUrl", "url": url}}


def _findings(card: Card, limit: int | None) -> list[dict[str, Any]]:
    if not card.findings:
        return [_line(plain_run("✅ No policy findings."))]
    blocks = []
    for finding in card.findings:
        blocking = finding.severity is Severity.BLOCKING
        text = f"{'⛔ Blocking' if blocking else '⚠️ Warning'} [{finding.code}]: {finding.message}"
        if finding.override:
            text += f" (accepted by {finding.override})"
        runs = [plain_run(text, limit=limit, color="Attention" if blocking else "Warning")]
        if finding.suggestion:
            runs.append(plain_run(f" {finding.suggestion}", limit=limit, italic=True))
        blocks.append(_line(*runs))
    return blocks


def with_notice(content: dict[str, Any], notice: str) -> dict[str, Any]:
    """An Adaptive Card with a message of ours at the top, e.g. why an approval from an
    outdated card was refused, above the current card."""
    banner = _line(plain_run(notice, color="Attention"))
    return {**content, "body": [banner, *content.get("body", [])]}


def _action(
    card: Card,
    action_id: str,
    label: str,
    value: str,
    style: str,
    revision: int | None,
    prefill: bool = True,
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": value, "kind": card.kind}
    if revision is not None:
        data["revision"] = revision
    execute: dict[str, Any] = {
        "type": "Action.Execute",
        "title": label,
        "verb": action_id,
        "data": data,
    }
    if style == "primary":
        execute["style"] = "positive"
    elif style == "danger":
        execute["style"] = "destructive"
    if action_id == "draft_reject":
        return _show(label, REASON_INPUT, "Why is it rejected?", "", {**execute, "title": "Reject"})
    if action_id == "draft_edit":
        current = card.body if card.kind == "draft" and prefill else ""
        hint = "New text (saving clears approvals)"
        if card.kind == "draft" and not prefill:
            hint = "Type the new text (it is shown above; saving clears approvals)"
        return _show(label, TEXT_INPUT, hint, current, {**execute, "title": "Save"})
    if action_id == "alert_reply":
        return _show(
            label,
            TEXT_INPUT,
            "Your reply (a draft; it needs approval)",
            "",
            {**execute, "title": "Create draft"},
        )
    return _with_fallback(execute)


def _with_fallback(execute: dict[str, Any]) -> dict[str, Any]:
    """Clients without Universal Actions send an Action.Submit instead, verb in its data."""
    submit = {
        "type": "Action.Submit",
        "title": execute["title"],
        "data": {**execute["data"], FALLBACK_VERB: execute["verb"]},
    }
    if "style" in execute:
        submit["style"] = execute["style"]
    return {**execute, "fallback": submit}


def _show(
    label: str, input_id: str, placeholder: str, value: str, submit: dict[str, Any]
) -> dict[str, Any]:
    """A button that opens an input and its own submit button, inside the card."""
    return {
        "type": "Action.ShowCard",
        "title": label,
        "card": {
            "type": "AdaptiveCard",
            "body": [
                {
                    "type": "Input.Text",
                    "id": input_id,
                    "isMultiline": True,
                    "placeholder": placeholder,
                    "value": value,
                    "isRequired": True,
                    "errorMessage": "This cannot be empty.",
                }
            ],
            "actions": [_with_fallback(submit)],
        },
    }
