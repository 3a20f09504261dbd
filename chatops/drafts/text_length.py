"""The length of a text as X counts it, in time proportional to the text's length.

twitter-text (the library X publishes, here its Python port) is the reference: a link counts
23, most CJK characters and emoji 2, anything else 1. Its link finder is a backtracking
regular expression, though, and on a run of dotted words without spaces ("a.a.a.…-.com") it
retries from every dot and rescans the run each time: quadratic in the run's length, a
second for 700 characters, 40 for 6,000, all of it holding the interpreter lock (a thread
does not help). So the text is counted piece by piece, and twitter-text sees only the
pieces where a link can be, within a fixed budget of work per text:

- The text is split at whitespace. A link never contains whitespace and may follow it, so
  the pieces' weights add up to the whole text's (tests/test_text_length.py holds this
  against twitter-text on random text).
- A piece without a top-level domain after a dot (".gov", ".jp", ".xn--…") holds no link: an
  ASCII piece weighs one per character; others are weighed by twitter-text with their dots
  turned into commas (same weight, and without a dot it looks for no link).
- A piece that may hold a link goes to twitter-text whole while the work it can cost fits
  in the budget. Only text nobody writes (hundreds of dotted fragments without a space)
  exhausts it; such a piece is then counted as plain characters plus the most its links
  could add (23 less the 4 characters of the shortest link, per top-level domain in it), so
  the count errs towards "too long", never towards a post that X refuses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from twitter_text import parse_tweet
from twitter_text.config import config
from twitter_text.regexp.spaces_group import spaces_group
from twitter_text.regexp.valid_cctld import valid_cctld
from twitter_text.regexp.valid_gtld import valid_gtld
from twitter_text.regexp.valid_punycode import valid_punycode

LINK_WEIGHT = int(config["defaults"]["transformed_url_length"])
SHORTEST_LINK = 4  # "a.co": one letter, a dot and a two-letter country domain
LINK_WORK_BUDGET = 1_000_000
"""Work units (see `_link_work`) spent on link finding per text: about 20 ms on this
project's machines, and over 100 times what a 280-character post with links needs."""
_LABEL_WORK = 200
"""Each dot multiplies twitter-text's retries by the cost of trying every top-level domain
there: about 200 times the cost of scanning one character."""

_PIECES = re.compile(f"[{spaces_group}]+|[^{spaces_group}]+")
_TOP_LEVEL = re.compile(
    rf"\.(?:{valid_gtld.pattern}|{valid_cctld.pattern}|{valid_punycode.pattern})", re.IGNORECASE
)
_NOT_A_LINK_START = re.compile(r"[A-Za-z0-9@＠$#＃\uFFFE\uFEFF\uFFFF]")


@dataclass(frozen=True)
class Counted:
    """`weighted` as X counts it; `fits_until` the index of the first character past `limit`
    (len(text) when it fits)."""

    weighted: int
    fits_until: int


def count(text: str, limit: int) -> Counted:
    """Weigh `text` piece by piece; see the module's docstring for why and how."""
    total = 0
    fits_until = len(text)
    budget = LINK_WORK_BUDGET
    for match in _PIECES.finditer(text):
        piece = match.group()
        tops = len(_TOP_LEVEL.findall(_normalized(piece))) if "." in piece else 0
        work = _link_work(piece) if tops else 0
        if tops and work <= budget:
            budget -= work
            weight = _weight(piece, links=True, first=match.start() == 0)
        else:
            weight = _weight(piece, links=False) + tops * (LINK_WEIGHT - SHORTEST_LINK)
        if fits_until == len(text) and total + weight > limit:
            fits_until = match.start() + _fits(piece, limit - total, links=bool(tops))
        total += weight
    return Counted(total, fits_until)


def _normalized(piece: str) -> str:
    """The piece as twitter-text reads it: composed ("m" and a combining accent are "ḿ",
    which ends a top-level domain differently)."""
    return piece if piece.isascii() else unicodedata.normalize("NFC", piece)


def _link_work(piece: str) -> int:
    """An upper estimate of twitter-text's work on `piece`: it may start a link after every
    character that is not a letter or digit, and from each start scan the whole piece and
    try every top-level domain at every dot."""
    starts = len(piece) - len(_NOT_A_LINK_START.findall(piece)) + 1
    return starts * (len(piece) + _LABEL_WORK * (piece.count(".") + 1))


def _weight(piece: str, *, links: bool, first: bool = False) -> int:
    if not links:
        if piece.isascii():
            return len(piece) - piece.count("\r\n")  # twitter-text reads \r\n as one break
        return int(parse_tweet(piece.replace(".", ",")).weightedLength)
    if first:
        return int(parse_tweet(piece).weightedLength)
    # After a space, as in the text: at the very start, twitter-text takes a first character
    # such as "é" for the one before a link, not a part of it.
    return int(parse_tweet(" " + piece).weightedLength) - 1


def _fits(piece: str, room: int, *, links: bool) -> int:
    """How many of `piece`'s characters fit in `room`: exact for pieces without links (the
    usual case, a long word or a run of CJK text), the piece's start otherwise."""
    if links or room <= 0:
        return 0
    if piece.isascii():
        return room
    parsed = parse_tweet(piece.replace(".", ","), _options(room))
    return _index_of_utf16(piece, int(parsed.validRangeEnd) + 1)


@lru_cache(maxsize=64)
def _options(limit: int) -> dict[str, Any]:
    return {**config["defaults"], "max_weighted_tweet_length": limit}


def _index_of_utf16(text: str, units: int) -> int:
    """twitter-text reports offsets in UTF-16 code units; Python indexes code points."""
    seen = 0
    for index, char in enumerate(text):
        seen += 2 if ord(char) > 0xFFFF else 1
        if seen > units:
            return index
    return len(text)
