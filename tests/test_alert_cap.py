"""Alerts are never lost or held in the wrong order: the per-minute cap lets the highest
scores through, holds the rest (never an urgent one) and releases them as the minute allows;
and the console runs every background job `serve` runs (digests, spikes, the reply inbox)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from chatops.domain.types import Mention, MentionAuthor
from chatops.listening.backtest import backtest
from chatops.runtime.clock import ManualClock
from chatops.runtime.settings import Settings
from chatops.storage.database import Database
from chatops.storage.tables import MentionRow

_ids = itertools.count(1)
EMERGENCY = (
    "@PortAlderCity the governor has declared a state of emergency. "
    "Is the deadline for sandbags 6pm tonight?"
)


def mention(
    clock: ManualClock, text: str, *, followers: int = 0, verified: bool = False, **metrics: int
) -> Mention:
    number = next(_ids)
    return Mention(
        network="sandbox",
        external_id=f"cap-{number}",
        url=f"https://sandbox.invalid/h{number}/status/cap-{number}",
        author=MentionAuthor(handle=f"h{number}", followers=followers, verified=verified),
        text=text,
        created_at=clock.now(),
        metrics=metrics,
    )


def reporter(clock: ManualClock) -> Mention:
    """The day's most notable mention: a verified reporter, an emergency, a deadline."""
    return mention(clock, EMERGENCY, followers=500_000, verified=True, likes=60, reposts=10)


async def scores(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(select(MentionRow.external_id, MentionRow.score))
        return {external: score for external, score in rows}


def cards(shown: str) -> list[str]:
    """The mention text of each alert card printed, in order, line wrapping undone."""
    texts = re.findall(
        r"(?:Mention|Question) on Sandbox \[SANDBOX\] ─*\n(.*?)\n│\n", shown, flags=re.S
    )
    return [flat(text) for text in texts]


def flat(text: str) -> str:
    """Printed text with the card frame and line wrapping taken out."""
    return " ".join(text.replace("│", " ").split())


async def test_a_burst_over_the_cap_sends_the_highest_scores_and_says_what_it_holds(
    converse,
) -> None:
    # Urgency lifted out of the way: this is about the order the cap lets alerts through.
    chat = await converse(user="alice", alerts_per_minute=3, alert_urgent_score=100)
    await chat.say("/alerts subscribe sandbags")
    small = [mention(chat.clock, f"sandbags at depot {n}", followers=2_000) for n in range(5)]
    middle = mention(chat.clock, "sandbags at the school", followers=5_000, verified=True)
    top = reporter(chat.clock)
    result = await chat.service.pipeline.ingest([*small, middle, top])
    assert (result.alerts, result.held) == (7, 4)
    scored = await scores(chat.service.db)
    assert scored[top.external_id] == max(scored.values()) > scored[middle.external_id]
    assert scored[middle.external_id] > scored[small[0].external_id]

    shown = await chat.tick()
    assert cards(shown) == [flat(top.text), middle.text, small[0].text]
    assert shown.count("held by this channel's cap") == 1
    assert "4 alert(s) held by this channel's cap of 3 a minute" in flat(shown)
    assert "highest score first" in shown and "`/alerts held` lists them" in flat(shown)

    held = await chat.say("/alerts held")
    assert "4 alert(s) held by this channel's cap of 3 a minute" in held
    listed = re.findall(r"Alert (\d+), score (\d+): @h\d+: (sandbags at depot \d)", held)
    assert [text for _, _, text in listed] == [m.text for m in small[1:]]
    assert [int(score) for _, score, _ in listed] == [scored[m.external_id] for m in small[1:]]
    assert await chat.tick() == ""  # nothing new, and no second notice


async def test_held_alerts_follow_highest_score_first_as_the_cap_allows(converse) -> None:
    chat = await converse(user="alice", alerts_per_minute=2, alert_urgent_score=100)
    clock = chat.clock
    await chat.say("/alerts subscribe sandbags")
    await chat.service.pipeline.ingest(
        [mention(clock, f"sandbags at depot {n}", followers=2_000) for n in range(2)]
    )
    assert len(cards(await chat.tick())) == 2  # the minute is full
    low = mention(clock, "sandbags by the pier", followers=20)
    higher = mention(clock, "sandbags needed on Marsh Lane", followers=5_000, verified=True)
    mid = mention(clock, "sandbags at the library", followers=2_000)
    await chat.service.pipeline.ingest([low, higher, mid])
    shown = await chat.tick()
    assert cards(shown) == []
    assert "3 alert(s) held by this channel's cap of 2 a minute" in flat(shown)
    later = mention(clock, "sandbags in the car park", followers=150)
    await chat.service.pipeline.ingest([later])
    assert await chat.tick() == ""  # the same burst: no second notice

    clock.advance(timedelta(minutes=1))
    assert cards(await chat.tick()) == [higher.text, mid.text]
    held = await chat.say("/alerts held")
    assert [line.split(": @", 1)[1] for line in held.splitlines() if ", score " in line] == [
        f"{later.author.handle}: {later.text} {later.url}",
        f"{low.author.handle}: {low.text} {low.url}",
    ]
    # A new mention in a minute with room competes with the held ones on its score.
    clock.advance(timedelta(minutes=1))
    newcomer = mention(clock, "sandbags?", followers=20_000, verified=True)
    await chat.service.pipeline.ingest([newcomer])
    assert cards(await chat.tick()) == [newcomer.text, later.text]
    clock.advance(timedelta(minutes=1))
    assert cards(await chat.tick()) == [low.text]
    assert "Nothing is held in this channel" in await chat.say("/alerts held")

    # That burst is over; the next one is told again.
    await chat.service.pipeline.ingest(
        [mention(clock, f"sandbags at gate {n}", followers=20) for n in range(3)]
    )
    assert "2 alert(s) held by this channel's cap of 2 a minute" in flat(await chat.tick())


async def test_an_alert_above_the_urgency_threshold_is_never_held(converse) -> None:
    chat = await converse(user="alice", alerts_per_minute=2)
    assert chat.service.settings.alert_urgent_score == 70
    await chat.say("/alerts subscribe sandbags")
    await chat.service.pipeline.ingest(
        [mention(chat.clock, f"sandbags at depot {n}", followers=2_000) for n in range(2)]
    )
    assert len(cards(await chat.tick())) == 2  # the minute is full
    top = reporter(chat.clock)
    small = mention(chat.clock, "sandbags at the school", followers=2_000)
    result = await chat.service.pipeline.ingest([small, top])
    assert result.held == 1
    assert (await scores(chat.service.db))[top.external_id] >= 70
    shown = await chat.tick()
    assert cards(shown) == [flat(top.text)]
    assert "Alerts scoring 70 or more are never held." in flat(shown)
    held = await chat.say("/alerts held")
    assert small.text in held and "state of emergency" not in held


def test_the_urgency_threshold_is_a_score(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOPS_ALERT_URGENT_SCORE", "85")
    assert Settings(_env_file=None).alert_urgent_score == 85  # type: ignore[call-arg]
    monkeypatch.setenv("CHATOPS_ALERT_URGENT_SCORE", "101")
    with pytest.raises(ValidationError, match="CHATOPS_ALERT_URGENT_SCORE"):
        Settings(_env_file=None)  # type: ignore[call-arg]


async def test_the_console_sends_the_daily_digest_it_was_asked_for(converse) -> None:
    chat = await converse(user="alice", timezone="America/Chicago")
    await chat.say("/alerts subscribe sandbags", "/alerts digest daily 08:00")
    await chat.service.pipeline.ingest([mention(chat.clock, "sandbags at the pier")])
    await chat.tick()
    # START is Friday 09:00 in Chicago; the next 08:00 is Saturday.
    chat.clock.advance(timedelta(hours=22, minutes=59))
    assert "Daily digest" not in await chat.tick()
    chat.clock.advance(timedelta(minutes=2))
    shown = await chat.tick()
    assert "Daily digest" in shown and "sandbags at the pier" in shown
    assert "Daily digest" not in await chat.tick()


async def test_the_console_digest_lists_what_the_cap_still_holds(converse) -> None:
    chat = await converse(user="alice", alerts_per_minute=1, alert_urgent_score=100)
    await chat.say("/alerts subscribe sandbags")  # an hourly digest, counted from now
    chat.clock.advance(timedelta(minutes=59))
    burst = [mention(chat.clock, f"sandbags at depot {n}", followers=20 * n) for n in range(3)]
    await chat.service.pipeline.ingest(burst)
    assert cards(await chat.tick()) == [burst[2].text]
    chat.clock.advance(timedelta(minutes=2))
    shown = await chat.tick()  # one more follows, then the digest lists the last one
    assert cards(shown) == [burst[1].text]
    digest = flat(shown.split("Hourly digest", 1)[1])
    assert "1 still held by the per-minute cap" in digest
    assert f"Held by the per-minute cap (they follow as alerts): @{burst[0].author.handle}" in (
        digest
    )
    chat.clock.advance(timedelta(minutes=1))
    assert cards(await chat.tick()) == [burst[0].text]  # the digest did not swallow it


async def test_the_console_resurfaces_questions_and_watches_for_spikes(converse) -> None:
    chat = await converse(user="alice")  # UTC; START is Friday 15:00, 2 business hours left
    await chat.say("/alerts subscribe library")
    asked = mention(chat.clock, "@PortAlderCity is the library open Saturday?")
    await chat.service.pipeline.ingest([asked])
    assert "Question on Sandbox" in await chat.tick()
    chat.clock.advance(timedelta(hours=2, minutes=1))
    assert "Still unanswered after 2 business hours" in await chat.tick()

    await chat.service.pipeline.ingest(
        [mention(chat.clock, f"library roof leaking {n}") for n in range(30)]
    )
    assert 'Spike: "library"' in await chat.tick()


async def test_the_backtest_holds_and_releases_as_live_routing_does(converse) -> None:
    chat = await converse(user="alice", alerts_per_minute=3, alert_urgent_score=100)
    await chat.say("/alerts subscribe sandbags")
    clock = ManualClock(chat.clock.now())
    first = [mention(clock, f"sandbags at depot {n}", followers=2_000) for n in range(5)]
    first.append(reporter(clock))
    clock.advance(timedelta(seconds=90))
    late = mention(clock, "sandbags at the pier", followers=20)
    lifted, urgent = (
        backtest(
            [*first, late], ["sandbags"], agency_handles=["PortAlderCity"], per_minute=3, **extra
        )[0]
        for extra in ({"urgent_score": 100}, {})
    )
    # Everything arrives in the end; the held ones wait for the minute to have room.
    assert lifted.alerts == urgent.alerts == len(first) + 1
    assert lifted.longest_hold_minutes == urgent.longest_hold_minutes == 1

    # The same mentions, live: the reporter goes first, and as many are held.
    result = await chat.service.pipeline.ingest(first)
    assert cards(await chat.tick())[0] == flat(first[-1].text)
    chat.clock.advance(timedelta(seconds=60))
    assert len(cards(await chat.tick())) == 3
    chat.clock.advance(timedelta(seconds=30))
    held = result.held + (await chat.service.pipeline.ingest([late])).held
    assert held == lifted.held == urgent.held == 4
