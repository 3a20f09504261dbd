"""Outside text as data on Teams: the one place text is made to show exactly as written.

Teams renders markdown in message text and in Adaptive Card `TextBlock`s and facts, so a
tweet's `[Official form](https://evil.example)` or `**URGENT**`, or an author's display name,
would become a disguised link or shouting. Two ways out, both here:

- on cards, every outside string is a `TextRun`, which Teams shows as written (markdown is not
  processed in text runs); the one thing text runs do interpret, the `{{DATE(...)}}` and
  `{{TIME(...)}}` formatters, is broken with an invisible word joiner;
- messages are sent with `textFormat: plain`, which Teams documents as "raw text with no
  formatting applied".
"""

from __future__ import annotations

import re
from typing import Any

from microsoft_agents.activity import Activity

_FORMATTER = re.compile(r"\{\{(?=(?:DATE|TIME)\()")
_WORD_JOINER = "\u2060"


def plain_run(text: str, *, limit: int | None = None, **style: Any) -> dict[str, Any]:
    """A text run that shows `text` as written; `limit` shortens it, with a note saying so."""
    if limit is not None and len(text) > limit:
        hidden = len(text) - limit
        text = f"{text[:limit]}… [shortened: {hidden} more characters do not fit a Teams card]"
    return {"type": "TextRun", "text": _FORMATTER.sub("{" + _WORD_JOINER + "{", text), **style}


def plain_message(text: str, *, reply_to_id: str | None = None) -> Activity:
    """A message whose text Teams shows as written."""
    activity = Activity(type="message", text=text, text_format="plain")
    if reply_to_id:
        activity.reply_to_id = reply_to_id
    return activity
