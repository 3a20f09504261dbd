"""How notable a mention is, from 0 to 100, and why: the "why you're seeing this" on a card.

Each component is a factor between 0 and 1 times its weight; the weights come from
settings (`CHATOPS_SCORE_WEIGHTS`), the watch lists and the emergency lexicon from the
database, so an agency tunes all three without touching code. The total is capped at 100.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatops.domain.types import Mention

QUESTION_WORDS = frozenset(
    [
        "how",
        "what",
        "when",
        "where",
        "why",
        "who",
        "which",
        "whom",
        "whose",
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "does",
        "do",
        "did",
        "will",
        "would",
        "should",
        "may",
        "shall",
        "any",
        "cómo",
        "como",
        "qué",
        "que",
        "cuándo",
        "cuando",
        "dónde",
        "donde",
        "quién",
        "cuál",
        "est-ce",
        "pourquoi",
        "quand",
        "comment",
        "où",
    ]
)
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_MENTION = re.compile(r"@(\w+)")


@dataclass(frozen=True)
class ScoreWeights:
    reach: float = 20
    verified: float = 10
    watchlist: float = 20
    engagement: float = 10
    negative: float = 10
    question: float = 15
    urgent: float = 30

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> ScoreWeights:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            names = ", ".join(sorted(cls.__dataclass_fields__))
            raise ValueError(f"unknown score weights {sorted(unknown)}; known: {names}")
        return cls(**{name: float(value) for name, value in values.items()})


@dataclass(frozen=True)
class Scored:
    score: int
    sentiment: str
    is_question: bool
    reasons: tuple[str, ...]


def default_urgent_terms() -> list[str]:
    """The shipped emergency lexicon (chatops/data/urgent_terms.txt), all languages."""
    text = resources.files("chatops.data").joinpath("urgent_terms.txt").read_text("utf-8")
    terms = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            terms.append(line.split(" ", 1)[1].strip().lower())
    return terms


class Scorer:
    """Scores mentions for one agency; build one per batch with the current lists."""

    def __init__(
        self,
        weights: ScoreWeights,
        *,
        agency_handles: Collection[str],
        watch: Mapping[str, str],
        urgent_terms: Sequence[str],
        analyzer: SentimentIntensityAnalyzer,
    ) -> None:
        self.weights = weights
        self.agency = {handle.lower().lstrip("@") for handle in agency_handles}
        self.watch = {handle.lower().lstrip("@"): name for handle, name in watch.items()}
        self.urgent = Lexicon(urgent_terms)
        self.analyzer = analyzer

    def score(self, mention: Mention) -> Scored:
        w = self.weights
        parts: list[tuple[float, str]] = []
        followers = mention.author.followers
        reach = min(1.0, math.log10(followers + 1) / 6)
        if reach > 0:
            parts.append((w.reach * reach, f"reach {followers:,} followers"))
        if mention.author.verified:
            parts.append((w.verified, "verified account"))
        listed = self.watch.get(mention.author.handle.lower())
        if listed:
            parts.append((w.watchlist, f"on the {listed} watch list"))
        engagement = _engagement(mention.metrics)
        if engagement > 0:
            parts.append((w.engagement * engagement, "engagement so far"))
        compound = float(self.analyzer.polarity_scores(mention.text)["compound"])
        sentiment = (
            "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
        )
        if sentiment == "negative":
            parts.append((w.negative * min(1.0, -compound), "negative tone"))
        question = is_question(mention.text)
        if question and self._addressed(mention.text):
            parts.append((w.question, "a question to the agency"))
        urgent = self.urgent.first_in(mention.text)
        if urgent:
            parts.append((w.urgent, f'urgent term "{urgent}"'))
        total = min(100, round(sum(points for points, _ in parts)))
        reasons = tuple(f"{why} (+{round(points)})" for points, why in parts if round(points) > 0)
        return Scored(total, sentiment, question, reasons)

    def from_agency(self, mention: Mention) -> bool:
        """Whether one of the agency's own accounts wrote it: its own posts come back in its
        mentions timeline (one account naming another), and are nobody's question to answer."""
        return mention.author.handle.lower().lstrip("@") in self.agency

    def _addressed(self, text: str) -> bool:
        return any(handle.lower() in self.agency for handle in _MENTION.findall(text))


def is_question(text: str) -> bool:
    if "?" in text or "¿" in text or "？" in text:
        return True
    words = [w.lower() for w in _WORD.findall(text) if not w.startswith("@")]
    return bool(words) and words[0] in QUESTION_WORDS and len(words) > 2


def _engagement(metrics: Mapping[str, int]) -> float:
    weighted = (
        metrics.get("likes", 0)
        + 2 * metrics.get("reposts", 0)
        + metrics.get("replies", 0)
        + 2 * metrics.get("quotes", 0)
    )
    return min(1.0, math.log10(weighted + 1) / 3)


class Lexicon:
    """Finds the first lexicon term in a text, in one pass over its words.

    Single words are looked up in a set (whole words only: "flood" is not in
    "floodlights"); phrases and terms in scripts written without spaces are checked by
    containment first and by a word-boundary regex only when they could be present.
    """

    def __init__(self, terms: Sequence[str]) -> None:
        unique = [term.lower() for term in dict.fromkeys(terms)]
        self.words = {t for t in unique if _WORD.fullmatch(t) and not _UNSPACED.search(t)}
        self.others = [(t, _boundary(t)) for t in unique if t not in self.words]

    def first_in(self, text: str) -> str | None:
        lowered = text.lower()
        word: str
        for word in _WORD.findall(lowered):
            if word in self.words:
                return word
        for term, pattern in self.others:
            if term in lowered and pattern.search(lowered):
                return term
        return None


_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def _boundary(term: str) -> re.Pattern[str]:
    if _UNSPACED.search(term):
        return re.compile(re.escape(term))
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")
