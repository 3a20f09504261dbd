"""Slack's message markup in and out: what people type becomes plain text for the network,
and text from anywhere else becomes inert mrkdwn.

Every string the core hands the Slack adapter is plain text (a tweet, a display name, a
reason, the core's own sentences that quote them). `escape` is the one place it becomes
mrkdwn, and `Mrkdwn` the one way the adapter mixes it with its own markup, the users the
bot resolved and links, so that nothing from outside can:

- ping: `<!channel>`, `<!here>`, `<@U…>`, `<!subteam^…>` (`<`, `>`, `&` become entities),
  and a bare `@here`/`@channel`/`@everyone` (a word joiner after the `@`, in case Slack
  parses those where it cannot be told not to, as in a message's top-level `text`);
- disguise a link: `<https://evil|Official form>` shows as typed; a URL in the text becomes
  a link that shows its own address;
- forge emphasis or quotes: `*`, `_` and `~` that could open or close formatting become
  look-alikes (U+2217, U+02CD, U+223C), and a `>` that starts a line becomes U+203A.
  Markers inside a word (`city_of_x`) cannot format in Slack and stay as they are.
  Backticks stay: the core writes commands as `code`, and code can neither ping, link
  nor embolden.

Block Kit objects carrying this text are sent with `verbatim: true`, so Slack does not
auto-link or auto-mention anything in it either.
"""

from __future__ import annotations

import re

from adapters.chat.slack.limits import ELLIPSIS, size

_ANGLE = re.compile(r"<([^<>]+)>")
_URL = re.compile(r"https?://[^\s<>|\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}"
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)
_LOOKALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c"}
_QUOTE_MARK = "\u203a"
WORD_JOINER = "\u2060"
NEWLINE = "\n"


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
    """Plain text as inert mrkdwn (see the module docstring for what that rules out)."""
    return "".join(_atoms(text))


def link(url: str, label: str = "") -> str:
    """A link the bot chose to show; anything but a plain http(s) URL stays text."""
    match = _URL.fullmatch(url)
    if match is None:
        return escape(url if not label else f"{label}: {url}")
    target = url.replace("&", "&amp;")
    shown = "".join(_char(label, index) for index in range(len(label)))
    return f"<{target}|{shown}>" if label else f"<{target}>"


def _atoms(text: str) -> list[str]:
    """`text` as mrkdwn in pieces that must not be split: an entity, a link, a character."""
    pieces: list[str] = []
    index = 0
    while index < len(text):
        match = _URL.match(text, index) if text[index] in "hH" else None
        if match is not None:
            url = match.group(0).rstrip(_URL_TRAILING)
            if _URL.fullmatch(url):
                pieces.append(link(url))
                index += len(url)
                continue
        pieces.append(_char(text, index))
        index += 1
    return pieces


def _char(text: str, index: int) -> str:
    char = text[index]
    if char == "&":
        return "&amp;"
    if char == "<":
        return "&lt;"
    if char == ">":
        return _QUOTE_MARK if index == 0 or text[index - 1] == NEWLINE else "&gt;"
    if char in _LOOKALIKE and not _inside_word(text, index):
        return _LOOKALIKE[char]
    if char == "@" and _BROADCAST.match(text, index):
        return "@" + WORD_JOINER
    return char


def _inside_word(text: str, index: int) -> bool:
    """A marker between two letters or digits, which Slack never reads as formatting."""
    return 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()


class Mrkdwn:
    """mrkdwn built from typed pieces: the adapter's own markup, outside text (escaped),
    users the bot resolved, links. `render` cuts it to a limit without ever splitting an
    entity, a link or a mention: whole lines first ("…and N more", where a line is what
    `line()` or a line break in outside text starts), then characters ("…")."""

    def __init__(self) -> None:
        self._atoms: list[str] = []

    def markup(self, markup: str) -> Mrkdwn:
        """The adapter's own formatting (`*State*`, an emoji code): trusted, never cut."""
        if markup:
            self._atoms.append(markup)
        return self

    def line(self) -> Mrkdwn:
        """Start a new line: where a list may be cut short."""
        self._atoms.append(NEWLINE)
        return self

    def text(self, text: str) -> Mrkdwn:
        self._atoms += _atoms(text)
        return self

    def user(self, user_id: str) -> Mrkdwn:
        """A mention of a user the bot knows by id; anything that is not an id stays text."""
        if re.fullmatch(r"[UW][A-Z0-9]{2,}", user_id):
            self._atoms.append(f"<@{user_id}>")
        else:
            self.text(user_id)
        return self

    def channel(self, channel_id: str) -> Mrkdwn:
        """A link to a channel the bot knows by id (where a subscription was made)."""
        if re.fullmatch(r"[CGD][A-Z0-9]{2,}", channel_id):
            self._atoms.append(f"<#{channel_id}>")
        else:
            self.text(channel_id)
        return self

    def link(self, url: str, label: str = "") -> Mrkdwn:
        self._atoms.append(link(url, label))
        return self

    def render(self, limit: int) -> str:
        whole = "".join(self._atoms)
        if size(whole) <= limit:
            return whole
        lines: list[list[str]] = [[]]
        for atom in self._atoms:
            if atom == NEWLINE:
                lines.append([])
            else:
                lines[-1].append(atom)
        kept: list[str] = []
        used = 0
        for number, line in enumerate(lines):
            later = len(lines) - number - 1
            joined = "".join(line)
            gap = 1 if kept else 0
            if used + gap + size(joined) + size(_more(later)) <= limit:
                kept.append(joined)
                used += gap + size(joined)
                continue
            if len(kept) >= 2:
                return NEWLINE.join(kept) + _more(later + 1)
            budget = limit - used - gap - size(_more(later)) - size(ELLIPSIS)
            kept.append(_clip_atoms(line, budget) + ELLIPSIS)
            return NEWLINE.join(kept) + _more(later)
        return NEWLINE.join(kept)


def _more(lines: int) -> str:
    return f"{NEWLINE}{ELLIPSIS}and {lines} more" if lines else ""


def _clip_atoms(atoms: list[str], budget: int) -> str:
    kept: list[str] = []
    used = 0
    for atom in atoms:
        if used + size(atom) > budget:
            break
        kept.append(atom)
        used += size(atom)
    return "".join(kept).rstrip()
