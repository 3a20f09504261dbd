"""Slack's message markup in and out: what people type becomes plain text for the network,
and plain text becomes safe mrkdwn on cards."""

from __future__ import annotations

import re

_ANGLE = re.compile(r"<([^<>]+)>")


def to_plain(text: str) -> str:
    """Undo Slack's encoding of a typed message: links, mentions, channels and entities.

    `<https://a.gov|a.gov>` becomes `https://a.gov`, `<@U123|bob>` becomes `U123` (the
    user id, which is what role commands need), `<#C1|general>` becomes `#general`,
    `<!here>` becomes `@here`, and `&amp;`/`&lt;`/`&gt;` become `&`/`<`/`>`.
    """

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return target[1:]
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return target

    return _ANGLE.sub(replace, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Plain text shown inside mrkdwn, so `<`, `>` and `&` are not read as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str) -> str:
    """A block quote, how a draft's text is previewed on its card."""
    return "\n".join(f">{line}" if line else ">" for line in escape(text).splitlines() or [""])
