"""Each part of the notability score matters on its own, and says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatops.domain.types import Mention, MentionAuthor
from chatops.listening.scoring import Scorer, ScoreWeights, default_urgent_terms, is_question

PLAIN = Mention(
    network="sandbox",
    external_id="1",
    url="https://sandbox.invalid/a/status/1",
    author=MentionAuthor(handle="resident", followers=0),
    text="Nice morning at the park",
    created_at=datetime(2026, 3, 9, tzinfo=UTC),
)


def scorer(**kwargs: object) -> Scorer:
    options: dict[str, object] = {
        "agency_handles": ["PortAlderCity"],
        "watch": {},
        "urgent_terms": default_urgent_terms(),
        "analyzer": SentimentIntensityAnalyzer(),
    }
    options.update(kwargs)
    return Scorer(ScoreWeights(), **options)  # type: ignore[arg-type]


def test_a_plain_mention_scores_zero() -> None:
    scored = scorer().score(PLAIN)
    assert scored.score == 0
    assert scored.reasons == ()


def test_reach_grows_on_a_log_scale() -> None:
    small = scorer().score(replace(PLAIN, author=MentionAuthor("a", followers=100)))
    big = scorer().score(replace(PLAIN, author=MentionAuthor("b", followers=1_000_000)))
    assert 0 < small.score < big.score == 20
    assert big.reasons == ("reach 1,000,000 followers (+20)",)


def test_verified_and_watch_lists_count() -> None:
    verified = scorer().score(replace(PLAIN, author=MentionAuthor("c", verified=True)))
    assert verified.score == 10 and "verified account (+10)" in verified.reasons
    watched = scorer(watch={"Ledger_Maya": "journalists"}).score(
        replace(PLAIN, author=MentionAuthor("ledger_maya"))
    )
    assert watched.score == 20
    assert "on the journalists watch list (+20)" in watched.reasons


def test_engagement_counts() -> None:
    busy = scorer().score(replace(PLAIN, metrics={"likes": 500, "reposts": 250}))
    assert busy.score == 10
    assert "engagement so far (+10)" in busy.reasons


def test_negative_tone_counts_and_labels_sentiment() -> None:
    angry = scorer().score(replace(PLAIN, text="This is terrible and disgusting, worst city ever"))
    assert angry.sentiment == "negative"
    assert angry.score > 0
    assert any(reason.startswith("negative tone") for reason in angry.reasons)
    happy = scorer().score(replace(PLAIN, text="Thank you crews, wonderful work!"))
    assert happy.sentiment == "positive" and happy.score == 0


def test_a_question_to_the_agency_counts_only_when_addressed() -> None:
    asked = scorer().score(replace(PLAIN, text="@PortAlderCity when does the library open?"))
    assert asked.is_question and "a question to the agency (+15)" in asked.reasons
    overheard = scorer().score(replace(PLAIN, text="when does the library open?"))
    assert overheard.is_question and overheard.score == 0


@pytest.mark.parametrize(
    "text",
    [
        "Water rising, flood on Marsh Lane",
        "Hay una inundación en la calle 5",
        "停电了，整条街都黑了",
        "Sunog sa Eastgate!",
        "Man trapped in car",
    ],
)
def test_urgent_terms_in_the_agency_languages(text: str) -> None:
    scored = scorer().score(replace(PLAIN, text=text))
    assert any(reason.startswith("urgent term") for reason in scored.reasons)
    assert scored.score >= 30


def test_an_admin_added_term_is_urgent_and_words_are_whole() -> None:
    assert scorer().score(replace(PLAIN, text="Mudslide on Route 9")).score == 0
    added = scorer(urgent_terms=[*default_urgent_terms(), "mudslide"])
    assert added.score(replace(PLAIN, text="Mudslide on Route 9")).score == 30
    floodlights = scorer().score(replace(PLAIN, text="Floodlights at the park"))
    assert not any(reason.startswith("urgent") for reason in floodlights.reasons)


def test_weights_come_from_settings_and_the_total_is_capped() -> None:
    heavy = Scorer(
        ScoreWeights.from_mapping({"urgent": 90, "verified": 50}),
        agency_handles=[],
        watch={},
        urgent_terms=["fire"],
        analyzer=SentimentIntensityAnalyzer(),
    )
    mention = replace(PLAIN, text="fire!", author=MentionAuthor("x", verified=True))
    assert heavy.score(mention).score == 100
    with pytest.raises(ValueError, match="unknown score weights"):
        ScoreWeights.from_mapping({"virality": 3})


def test_question_detection() -> None:
    assert is_question("Is Main St closed")
    assert is_question("¿Dónde hay sacos de arena")
    assert not is_question("Main St is closed")
