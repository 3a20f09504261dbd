"""Slack's documented Block Kit and message limits, in one place.

The builders in `blocks.py` cut to these by construction, and the tests check every payload
against them (`tests/block_kit.py`). Each number is from Slack's reference pages:

- text object, section, header, context, actions blocks:
  https://docs.slack.dev/reference/block-kit/composition-objects/text-object
  https://docs.slack.dev/reference/block-kit/blocks/section-block
  https://docs.slack.dev/reference/block-kit/blocks/header-block
  https://docs.slack.dev/reference/block-kit/blocks/context-block
  https://docs.slack.dev/reference/block-kit/blocks/actions-block
- button and plain-text input elements, input block:
  https://docs.slack.dev/reference/block-kit/block-elements/button-element
  https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
  https://docs.slack.dev/reference/block-kit/blocks/input-block
- views (modals and App Home): https://docs.slack.dev/reference/views
- messages: https://docs.slack.dev/reference/methods/chat.postMessage (at most 50 blocks;
  `text` is truncated after 40,000 characters)

Slack counts "characters" without saying which; `size` counts UTF-16 code units, which is
never fewer than code points, so an emoji counts twice and nothing passes by a unit.
"""

from __future__ import annotations

TEXT_OBJECT = 3000
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BLOCK_ID = 255

BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255

INPUT_LABEL = 2000
INPUT_MAX_LENGTH = 3000
PLACEHOLDER = 150

VIEW_TITLE = 24
VIEW_BUTTON = 24
VIEW_BLOCKS = 100
PRIVATE_METADATA = 3000
CALLBACK_ID = 255

MESSAGE_BLOCKS = 50
MESSAGE_TEXT = 40000

ELLIPSIS = "…"


def size(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Plain text cut to `limit`, with a visible "…" when anything was cut.

    Cuts between code points, never inside a surrogate pair; for mrkdwn, which has escape
    sequences that must not be cut, use `text.Mrkdwn.render`.
    """
    if size(text) <= limit:
        return text
    budget = limit - size(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for char in text:
        width = size(char)
        if used + width > budget:
            break
        kept.append(char)
        used += width
    return "".join(kept).rstrip() + ELLIPSIS
