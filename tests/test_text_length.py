"""Counting a draft's length as X does, in bounded time: a long draft must not freeze the
server (one 6,000-character /post used to stall every request for 40 seconds)."""

from __future__ import annotations

import random
import time

import pytest
from twitter_text import parse_tweet

from chatops.domain.errors import InvalidInput
from chatops.drafts.policy import MAX_TEXT_CHARS, check
from chatops.drafts.text_length import count

# Pieces that make twitter-text's link finder work hard, or that a piecewise count could
# get wrong: dots, hyphens and underscores in domains, protocols, top-level domains (ASCII,
# IDN, punycode), accents that compose, emoji sequences, CJK, every kind of space.
ALPHABET = [
    *"aab.-_/:?=#@() \n\r",
    *("com", "co", "jp", "gov", "https://", "http://", "www.", "t.co/", "xn--p1ai"),
    *("é", "日", "中国", "😀", "👨\u200d🎤", "\u0301", "$", "＃", "\u3000", ".", "1"),
]


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def _hard_texts(length: int) -> dict[str, str]:
    """Texts that are slow for twitter-text or for the compliance rules, at `length`."""
    return {
        "dotted run": _repeat("a.", length),
        "dotted run, broken before its domain": _repeat("a.", length - 6) + "a-.com",
        "domains with underscores": _repeat("a.com.x_y", length),
        "CJK with dots": _repeat("日本.", length),
        "www": _repeat("www.", length),
        "emails": _repeat("a@b.co ", length),
        "phone numbers": _repeat("555-123-4567 ", length),
        "links": _repeat("https://a.gov/ ", length),
        "prose": _repeat("Flood update: Main St closed, see https://portal.gov/x #Flood ", length),
    }


def test_counts_exactly_like_twitter_text_on_random_text() -> None:
    rng = random.Random(20251201)
    for _ in range(4000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
        assert count(text, 280).weighted == parse_tweet(text).weightedLength, repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org/a/very/long/path/that/is/long and more",
        "Voir https://www.portalder.gov/crue?x=1 et www.example.com.",
        "日本語のテキスト。https://example.jp/ 詳細は example.co.jp を見てください",
        "édition spéciale:https://t.co/abc123 (see portalder.gov)",
        "Family 👨‍👩‍👧 and flags 🇺🇸🇫🇷, keycap #️⃣",
    ],
)
def test_counts_exactly_like_twitter_text_on_real_posts(text: str) -> None:
    assert count(text, 280).weighted == parse_tweet(text).weightedLength


def test_the_first_character_past_the_limit_is_found_in_plain_and_cjk_text() -> None:
    assert count("a" * 281, 280).fits_until == 280
    assert count("word " * 60, 280).fits_until == 280
    assert count("你" * 150, 280).fits_until == 140
    assert count("short", 280).fits_until == len("short")


@pytest.mark.parametrize("name", list(_hard_texts(MAX_TEXT_CHARS)))
def test_checking_the_longest_allowed_text_takes_bounded_time(name: str) -> None:
    """Before: twitter-text needed seconds for these (7 s for the dotted run alone), all
    on the event loop. Now each is tens of milliseconds; the bound is generous for CI."""
    text = _hard_texts(MAX_TEXT_CHARS)[name]
    started = time.perf_counter()
    result = check(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{name}: {elapsed:.2f} s"
    assert result.weighted_length > result.limit


def test_text_over_the_maximum_is_refused_before_any_work() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as refused:
        check(_repeat("a.", 6000))
    assert time.perf_counter() - started < 0.1
    assert "6,000 characters" in refused.value.message
    assert f"at most {MAX_TEXT_CHARS:,} characters" in refused.value.message
