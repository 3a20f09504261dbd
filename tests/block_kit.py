"""Checks a Block Kit payload against Slack's documented limits, not against our fake.

The fake Slack accepts any blocks; real Slack answers `invalid_blocks` (or truncates) when a
limit is broken. The limits are the ones `adapters/chat/slack/limits.py` cites from Slack's
reference pages; this walks a payload as Slack receives it (JSON, after the SDK) and names
every place that breaks one, including mrkdwn cut inside an entity or a `<…>` sequence.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.chat.slack import limits
from adapters.chat.slack.limits import size

_BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def message_problems(payload: dict[str, Any]) -> list[str]:
    """A chat.postMessage / chat.update / response_url body."""
    problems: list[str] = []
    blocks = payload.get("blocks") or []
    if len(blocks) > limits.MESSAGE_BLOCKS:
        problems.append(f"message: {len(blocks)} blocks > {limits.MESSAGE_BLOCKS}")
    text = payload.get("text")
    if isinstance(text, str):
        problems += _mrkdwn_problems("message.text", text, limits.MESSAGE_TEXT)
    for number, block in enumerate(blocks):
        problems += _block_problems(f"blocks[{number}]", block)
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    """A modal (views.open) or an App Home (views.publish)."""
    problems: list[str] = []
    blocks = view.get("blocks") or []
    if len(blocks) > limits.VIEW_BLOCKS:
        problems.append(f"view: {len(blocks)} blocks > {limits.VIEW_BLOCKS}")
    for key in ("title", "submit", "close"):
        if key in view:
            problems += _plain_problems(f"view.{key}", view[key], limits.VIEW_TITLE)
    if size(view.get("private_metadata") or "") > limits.PRIVATE_METADATA:
        problems.append("view.private_metadata too long")
    if size(view.get("callback_id") or "") > limits.CALLBACK_ID:
        problems.append("view.callback_id too long")
    for number, block in enumerate(blocks):
        problems += _block_problems(f"blocks[{number}]", block)
    return problems


def _block_problems(where: str, block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = block.get("type")
    if size(block.get("block_id") or "") > limits.BLOCK_ID:
        problems.append(f"{where}.block_id too long")
    if kind == "header":
        problems += _plain_problems(f"{where}.text", block.get("text"), limits.HEADER_TEXT)
    elif kind == "section":
        fields = block.get("fields") or []
        if "text" not in block and not fields:
            problems.append(f"{where}: a section needs text or fields")
        if "text" in block:
            problems += _text_problems(f"{where}.text", block["text"], limits.SECTION_TEXT)
        if len(fields) > limits.SECTION_FIELDS:
            problems.append(f"{where}: {len(fields)} fields > {limits.SECTION_FIELDS}")
        for number, field in enumerate(fields):
            problems += _text_problems(f"{where}.fields[{number}]", field, limits.FIELD_TEXT)
        if "accessory" in block:
            problems += _element_problems(f"{where}.accessory", block["accessory"])
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > limits.CONTEXT_ELEMENTS:
            problems.append(f"{where}: {len(elements)} context elements")
        for number, element in enumerate(elements):
            problems += _text_problems(f"{where}.elements[{number}]", element, limits.TEXT_OBJECT)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > limits.ACTIONS_ELEMENTS:
            problems.append(f"{where}: {len(elements)} action elements")
        for number, element in enumerate(elements):
            problems += _element_problems(f"{where}.elements[{number}]", element)
    elif kind == "input":
        problems += _plain_problems(f"{where}.label", block.get("label"), limits.INPUT_LABEL)
        if "hint" in block:
            problems += _plain_problems(f"{where}.hint", block["hint"], limits.INPUT_LABEL)
        problems += _element_problems(f"{where}.element", block.get("element") or {})
    elif kind != "divider":
        problems.append(f"{where}: unexpected block type {kind!r}")
    return problems


def _element_problems(where: str, element: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if size(element.get("action_id") or "") > limits.ACTION_ID:
        problems.append(f"{where}.action_id too long")
    if element.get("type") == "button":
        problems += _plain_problems(f"{where}.text", element.get("text"), limits.BUTTON_TEXT)
        if size(element.get("value") or "") > limits.BUTTON_VALUE:
            problems.append(f"{where}.value too long")
    elif element.get("type") == "plain_text_input":
        most = element.get("max_length", limits.INPUT_MAX_LENGTH)
        if not 1 <= most <= limits.INPUT_MAX_LENGTH:
            problems.append(f"{where}.max_length {most} outside 1..{limits.INPUT_MAX_LENGTH}")
        initial = element.get("initial_value") or ""
        if size(initial) > most:
            problems.append(f"{where}.initial_value is {size(initial)} > max_length {most}")
        if "placeholder" in element:
            problems += _plain_problems(
                f"{where}.placeholder", element["placeholder"], limits.PLACEHOLDER
            )
    else:
        problems.append(f"{where}: unexpected element type {element.get('type')!r}")
    return problems


def _plain_problems(where: str, obj: Any, limit: int) -> list[str]:
    return _text_problems(where, obj, limit, plain=True)


def _text_problems(where: str, obj: Any, limit: int, *, plain: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if plain and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    if obj["type"] == "mrkdwn":
        return _mrkdwn_problems(where, text, limit)
    return [f"{where}: {size(text)} characters > {limit}"] if size(text) > limit else []


def _mrkdwn_problems(where: str, text: str, limit: int) -> list[str]:
    problems = [f"{where}: {size(text)} characters > {limit}"] if size(text) > limit else []
    if _BROKEN_ENTITY.search(text):
        problems.append(f"{where}: a bare & (an entity cut short?)")
    if re.search(r"<[^>]*(<|$)", text):
        problems.append(f"{where}: unbalanced <…> (a link or mention cut short?)")
    return problems
