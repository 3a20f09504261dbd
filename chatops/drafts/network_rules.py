"""Each network kind's own rules for a post: how long its text may be as that network counts
it, how many images it takes, and how long their alt text may be.

A draft goes to accounts on several networks, and the same text is 250 characters on X,
230 on Mastodon and 270 on Bluesky; a card that counted them all one way would pass posts a
network then refuses. So each kind says how it counts, as its servers do:

- X: twitter-text's weighted length (`text_length`): a link counts 23, most CJK characters
  and emoji 2. Alt text: 1,000 characters.
- Mastodon: 500 by default, and each instance sets its own (`max_chars`). Its server
  (StatusLengthValidator) replaces every http(s) link by 23 characters and a remote mention
  `@user@domain` by `@user`, then counts grapheme clusters. Alt text: 1,500 characters
  (MediaAttachment's MAX_DESCRIPTION_LENGTH, Ruby's `length`, so code points).
- Bluesky: 300 grapheme clusters (app.bsky.feed.post's maxGraphemes), the whole text with
  its links in full since we send the full URL, and at most 3,000 UTF-8 bytes (the
  lexicon's maxLength, reached only by long runs of emoji sequences). 4 images
  (app.bsky.embed.images); the lexicon sets no alt-text limit, the Bluesky app 2,000
  graphemes, and we hold to the app's.

Grapheme clusters come from `regex`'s \\X (Unicode's extended grapheme clusters, kept up to
date with Unicode): a family emoji joined by ZWJ, a flag, or an "e" with a combining accent
count 1. Every count here is one pass over the text, so 2,000 combining marks cost no more
than 2,000 letters. (\\X alone is quadratic on a run of regional indicators, the letters of
flags: it looks back over the run for each one to pair them. A run is split after each
pair, where a cluster always ends, and \\X sees the pieces.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import regex

from chatops.drafts.text_length import Counted
from chatops.drafts.text_length import count as x_count

KINDS = ("bluesky", "mastodon", "x")
"""The network kinds whose rules are known; a network (a sandbox one too) declares one."""

MASTODON_DEFAULT_CHARS = 500
MASTODON_LINK_WEIGHT = 23
BLUESKY_MAX_BYTES = 3_000

_GRAPHEME = regex.compile(r"\X")
_FLAG_LETTERS = re.compile("[\U0001f1e6-\U0001f1ff]{3,}")
r"""A run of regional indicators long enough to cost \X a look back (see the docstring)."""
# Mastodon counts only links with a scheme (extract_url_without_protocol: false). A link ends
# at whitespace; the punctuation that usually follows one is left outside it and counted,
# so the count errs towards "too long".
_LINK = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_LINK_TRAIL = ".,:;!?'\")]}"
# Account::MENTION_RE: a username, then a domain that Mastodon does not count. Its parts
# (word characters, and dots or dashes) never overlap, so matching is linear.
_REMOTE_MENTION = re.compile(r"(?<![=/\w])(@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@\w+(?:[.-]+\w+)*", re.I)


@dataclass(frozen=True)
class NetworkRules:
    """One network kind's rules for a post, with the counting that goes with them.

    `count_text(text, limit)` gives the length as the network counts it and where the text
    stops fitting; `count_alt_text` an image description's length as the network counts
    it. `length_hint` and `near_hint` finish the findings' suggestions, since what makes
    a text long differs by network."""

    kind: str
    label: str
    max_chars: int
    count_text: Callable[[str, int], Counted]
    max_images: int
    max_alt_text: int
    count_alt_text: Callable[[str], int]
    length_hint: str
    near_hint: str
    max_bytes: int | None = None

    def count(self, text: str) -> Counted:
        """`text`'s length as this network counts it, against this network's limit."""
        return self.count_text(text, self.max_chars)


def rules_for(kind: str, *, max_chars: int | None = None) -> NetworkRules:
    """The rules of network kind `kind`, with `max_chars` instead of its usual text limit
    when given (a Mastodon instance sets its own).

    Raises ValueError for a kind not in KINDS or a limit under 1."""
    if kind not in _RULES:
        raise ValueError(f"unknown network kind {kind!r}; known kinds: {', '.join(KINDS)}")
    rules = _RULES[kind]
    if max_chars is None:
        return rules
    if max_chars < 1:
        raise ValueError(f"a text limit must be at least 1, not {max_chars}")
    return replace(rules, max_chars=max_chars)


def graphemes(text: str) -> int:
    """The number of user-perceived characters (extended grapheme clusters) in `text`."""
    if text.isascii() and "\r\n" not in text:
        return len(text)
    return sum(1 for _ in _cluster_starts(text, 0, len(text)))


def bluesky_count(text: str, limit: int) -> Counted:
    """Graphemes of the whole text, as Bluesky's maxGraphemes counts them."""
    return _fit(_grapheme_units(text, 0, len(text)), text, limit)


def mastodon_count(text: str, limit: int) -> Counted:
    """The length Mastodon's server checks: links as 23, remote mentions without their
    domain, graphemes for the rest."""
    return _fit(_mastodon_units(text), text, limit)


def _mastodon_units(text: str) -> Iterator[tuple[int, int]]:
    """(start, weight) of each counted unit: a link, a mention's username, a grapheme."""
    position = 0
    for link in _LINK.finditer(text):
        end = link.start() + len(link.group().rstrip(_LINK_TRAIL))
        if end - link.start() <= len("https://"):
            continue
        yield from _plain_units(text, position, link.start())
        yield link.start(), MASTODON_LINK_WEIGHT
        position = end
    yield from _plain_units(text, position, len(text))


def _plain_units(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Graphemes of text[start:end], each remote mention's username as one unit."""
    position = start
    for mention in _REMOTE_MENTION.finditer(text, start, end):
        yield from _grapheme_units(text, position, mention.start())
        yield mention.start(), graphemes(mention.group(1))
        position = mention.end()
    yield from _grapheme_units(text, position, end)


def _grapheme_units(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    for cluster in _cluster_starts(text, start, end):
        yield cluster, 1


def _cluster_starts(text: str, start: int, end: int) -> Iterator[int]:
    """Where each grapheme cluster of text[start:end] starts, in one pass: a run of flag
    letters is cut after each pair, where a cluster ends whatever surrounds it."""
    position = start
    for run in _FLAG_LETTERS.finditer(text, start, end):
        for cut in range(run.start() + 2, run.end(), 2):
            yield from _starts_in(text, position, cut)
            position = cut
    yield from _starts_in(text, position, end)


def _starts_in(text: str, start: int, end: int) -> Iterator[int]:
    for match in _GRAPHEME.finditer(text[start:end]):
        yield start + match.start()


def _fit(units: Iterator[tuple[int, int]], text: str, limit: int) -> Counted:
    """Add up `units`' weights; `fits_until` is where the first unit past `limit` starts."""
    total = 0
    fits_until = len(text)
    for start, weight in units:
        total += weight
        if total > limit and fits_until == len(text):
            fits_until = start
    return Counted(total, fits_until)


_RULES = {
    "x": NetworkRules(
        kind="x",
        label="X",
        max_chars=280,
        count_text=x_count,
        max_images=4,
        max_alt_text=1_000,
        count_alt_text=len,
        length_hint="links count as 23, most emoji and CJK characters as 2",
        near_hint="An edit that adds a link or emoji may push it over.",
    ),
    "mastodon": NetworkRules(
        kind="mastodon",
        label="Mastodon",
        max_chars=MASTODON_DEFAULT_CHARS,
        count_text=mastodon_count,
        max_images=4,
        max_alt_text=1_500,
        count_alt_text=len,
        length_hint="links count as 23, and a mention's @domain not at all",
        near_hint="An edit that adds a few words or a link may push it over.",
    ),
    "bluesky": NetworkRules(
        kind="bluesky",
        label="Bluesky",
        max_chars=300,
        count_text=bluesky_count,
        max_images=4,
        max_alt_text=2_000,
        count_alt_text=graphemes,
        length_hint="links count in full, each emoji as 1",
        near_hint="An edit that adds a few words or a link (counted in full) may push it over.",
        max_bytes=BLUESKY_MAX_BYTES,
    ),
}
