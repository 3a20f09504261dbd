"""Core cards as Adaptive Cards (schema 1.4, Action.Execute): pure translation to JSON."""

from __future__ import annotations

from typing import Any

from chatops.cards import Card
from chatops.domain.types import Severity

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
REASON_INPUT = "reason"
TEXT_INPUT = "text"


def adaptive_card(card: Card) -> dict[str, Any]:
    """The card's facts, findings and buttons; Reject and Edit open their own input."""
    title = card.title if not card.badge else f"{card.title} [{card.badge}]"
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": card.body, "wrap": True},
    ]
    if card.fields:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": f.label, "value": f.value} for f in card.fields],
            }
        )
    if card.kind == "draft":
        body += _findings(card)
    if card.link:
        label = "View the live post" if card.kind == "draft" else "Open the mention"
        body.append({"type": "TextBlock", "text": f"[{label}]({card.link})", "wrap": True})
    if card.footer:
        body.append({"type": "TextBlock", "text": card.footer, "isSubtle": True, "wrap": True})
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.4",
        "body": body,
        "actions": [
            _action(
                card, action.action_id, action.label, action.value, action.style, action.revision
            )
            for action in card.actions
        ],
    }


def attachment(card: Card) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": adaptive_card(card)}


def _findings(card: Card) -> list[dict[str, Any]]:
    if not card.findings:
        return [{"type": "TextBlock", "text": "✅ No policy findings.", "wrap": True}]
    blocks = []
    for finding in card.findings:
        blocking = finding.severity is Severity.BLOCKING
        text = f"{'⛔ Blocking' if blocking else '⚠️ Warning'}: {finding.message}"
        if finding.override:
            text += f" (accepted by {finding.override})"
        if finding.suggestion:
            text += f" _{finding.suggestion}_"
        blocks.append(
            {
                "type": "TextBlock",
                "text": text,
                "wrap": True,
                "color": "Attention" if blocking else "Warning",
            }
        )
    return blocks


def with_notice(content: dict[str, Any], notice: str) -> dict[str, Any]:
    """An Adaptive Card with a message of ours at the top, e.g. why an approval from an
    outdated card was refused, above the current card."""
    banner = {"type": "TextBlock", "text": notice, "wrap": True, "color": "Attention"}
    return {**content, "body": [banner, *content.get("body", [])]}


def _action(
    card: Card, action_id: str, label: str, value: str, style: str, revision: int | None
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
        current = card.body if card.kind == "draft" else ""
        return _show(
            label,
            TEXT_INPUT,
            "New text (saving clears approvals)",
            current,
            {**execute, "title": "Save"},
        )
    if action_id == "alert_reply":
        return _show(
            label,
            TEXT_INPUT,
            "Your reply (a draft; it needs approval)",
            "",
            {**execute, "title": "Create draft"},
        )
    return execute


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
            "actions": [submit],
        },
    }
