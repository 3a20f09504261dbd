"""Routing rules, caps, digests, spikes, the reply inbox and response times, with an
injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta

from chatops.domain.types import Mention, MentionAuthor
from chatops.storage.mentions import MentionStore
from tests.harness import unwrapped

_ids = itertools.count(1)


def mention(chat, text: str, *, minutes_ago: float = 0, **author: object) -> Mention:  # type: ignore[no-untyped-def]
    number = next(_ids)
    handle = str(author.pop("handle", f"resident{number}"))
    return Mention(
        network="sandbox",
        external_id=f"t-{number}",
        url=f"https://sandbox.invalid/{handle}/status/t-{number}",
        author=MentionAuthor(handle=handle, **author),  # type: ignore[arg-type]
        text=text,
        created_at=chat.clock.now() - timedelta(minutes=minutes_ago),
    )


async def test_min_score_filters_and_a_rule_without_it_relays_every_match(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe pothole min_score:25")
    quiet = mention(chat, "pothole on Cedar St")
    loud = mention(chat, "pothole on Cedar St, again", followers=250_000, verified=True)
    result = await chat.service.pipeline.ingest([quiet, loud])
    assert result.alerts == 1
    shown = await chat.tick()
    assert "pothole on Cedar St, again" in shown
    assert "≥ 25" in shown
    assert "verified account (+10)" in shown

    await chat.say("/alerts unsubscribe 1", "/alerts subscribe pothole")
    assert (await chat.service.pipeline.ingest([mention(chat, "another pothole")])).alerts == 1


async def test_digest_mode_keeps_alerts_for_the_digest_which_lists_those_the_cap_holds(
    converse,
) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe flood", "/alerts subscribe outage mode:digest")
    await chat.tick()
    flood = [mention(chat, f"flood report {n} on Marsh Lane") for n in range(12)]
    outage = [mention(chat, "outage in Eastgate, no power since noon")]
    result = await chat.service.pipeline.ingest([*flood, *outage])
    assert (result.alerts, result.to_digest, result.held) == (13, 1, 2)
    assert (await chat.tick()).count("on Sandbox [SANDBOX]") == 10

    chat.clock.advance(timedelta(minutes=59))
    assert await chat.service.digests.run_due() == 0
    chat.clock.advance(timedelta(minutes=2))
    assert await chat.service.digests.run_due() == 1
    digest = chat.out.getvalue().rsplit("Hourly digest", 1)[1]
    assert "Volume: 13 mention(s) for this channel" in digest
    assert "2 still held by the per-minute cap" in " ".join(digest.replace("│", " ").split())
    held_for_digest = digest.split("Held for this digest:", 1)[1].split("Held by the", 1)
    assert "outage in Eastgate" in held_for_digest[0]
    assert "flood report" not in held_for_digest[0]
    still_held = held_for_digest[1]
    assert "flood report 10" in still_held and "flood report 11" in still_held
    assert "Top mentions:" in digest
    # The digest does not consume what the cap holds: those follow as alerts.
    shown = await chat.tick()
    assert shown.count("on Sandbox [SANDBOX]") == 2
    assert "flood report 10" in shown and "flood report 11" in shown
    chat.clock.advance(timedelta(hours=1, minutes=1))
    assert await chat.service.digests.run_due() == 0  # nothing new: no empty digest


async def test_a_daily_digest_comes_at_its_local_time(converse) -> None:
    chat = await converse(user="alice", timezone="America/Chicago")
    await chat.say("/alerts subscribe flood", "/alerts digest daily 08:00")
    await chat.service.pipeline.ingest([mention(chat, "flood at the pier")])
    await chat.tick()
    # START is Friday 09:00 in Chicago; the next 08:00 is Saturday.
    chat.clock.advance(timedelta(hours=22, minutes=59))
    assert await chat.service.digests.run_due() == 0
    chat.clock.advance(timedelta(minutes=2))
    assert await chat.service.digests.run_due() == 1
    assert "Daily digest" in chat.out.getvalue()
    assert "is not a digest schedule" in await chat.say("/alerts digest weekly")
    assert "is not a time of day" in await chat.say("/alerts digest daily 25:00")


async def test_reposts_collapse_into_one_alert_that_counts_them(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe evacuation")
    original = mention(chat, "Evacuation ordered for Lowtide", handle="lowtide_mutual_aid")
    await chat.service.pipeline.ingest([original])
    await chat.tick()
    reposts = [
        Mention(
            network="sandbox",
            external_id=f"rt-{n}",
            url=f"https://sandbox.invalid/r{n}/status/rt-{n}",
            author=MentionAuthor(handle=f"r{n}"),
            text="RT @lowtide_mutual_aid: Evacuation ordered for Lowtide",
            created_at=chat.clock.now(),
            kind="repost",
            refers_to=original.external_id,
        )
        for n in range(3)
    ]
    result = await chat.service.pipeline.ingest(reposts)
    assert (result.alerts, result.collapsed) == (0, 3)
    async with chat.service.db.transaction() as session:
        alert = await MentionStore(session).alert(1)
    assert alert is not None and alert.repeats == 3
    await chat.service.core.alerts.assign(chat.session.actor, 1)
    assert "reposted or quoted 3 more time(s)" in await chat.tick() + chat.out.getvalue()


async def test_a_spike_alerts_once_until_it_subsides(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe water")
    background = [
        mention(chat, f"water main work {n}", minutes_ago=60 * hour + 30)
        for hour in range(1, 13)
        for n in range(2)
    ]
    burst = [mention(chat, f"brown water from the tap {n}", minutes_ago=n) for n in range(30)]
    await chat.service.pipeline.ingest([*background, *burst])
    shown = await chat.tick()  # the console watches for spikes as `serve` does
    assert shown.count("Spike: ") == 2  # this rule's spike, and all mentions'
    assert "Spike: all mentions" in shown
    spike = shown.split('Spike: "water"', 1)[1]
    assert "30 mentions in the last hour, against about 2.0 an hour" in spike
    assert "Top terms: " in spike and "brown" in spike
    assert spike.count("@resident") >= 3
    assert await chat.service.spikes.run_once() == 0  # still spiking: no repeat


async def test_a_steady_high_baseline_is_not_a_spike(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe traffic")
    steady = [
        mention(chat, f"traffic update {hour}-{n}", minutes_ago=60 * hour + n)
        for hour in range(13)
        for n in range(20)
    ]
    await chat.service.pipeline.ingest(steady)
    assert await chat.service.spikes.run_once() == 0


async def test_unanswered_questions_come_back_once_naming_the_assignee(converse) -> None:
    chat = await converse(user="alice")  # UTC; START is Friday 15:00, 2 business hours left
    await chat.say("/alerts subscribe library")
    asked = mention(chat, "@PortAlderCity is the library open Saturday?")
    await chat.service.pipeline.ingest([asked])
    assert "Question on Sandbox" in await chat.tick()
    await chat.service.core.alerts.assign(chat.session.actor, 1)
    chat.clock.advance(timedelta(hours=1, minutes=59))
    assert await chat.service.inbox.resurface_overdue() == 0
    chat.clock.advance(timedelta(minutes=2))
    assert await chat.service.inbox.resurface_overdue() == 1
    note = chat.out.getvalue().rsplit("Still unanswered", 1)[1]
    assert note.startswith(" after 2 business hours (assigned to alice)")
    assert f"/reply {asked.external_id}" in note
    chat.clock.advance(timedelta(hours=5))
    assert await chat.service.inbox.resurface_overdue() == 0


async def test_a_published_reply_closes_the_question_and_counts_in_stats(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe sandbags")
    asked = mention(chat, "@PortAlderCity where can I get sandbags?")
    await chat.service.pipeline.ingest([asked])
    await chat.tick()
    chat.clock.advance(timedelta(minutes=40))
    await chat.say(f"/reply {asked.external_id} Pier 3 until 8pm.", "/as bob", "/social approve 1")
    async with chat.service.db.transaction() as session:
        alert = await MentionStore(session).alert(1)
    assert alert is not None and alert.state == "handled" and alert.handled_by == "alice"
    stats = await chat.say("/social stats")
    assert "Last 7 days: 1 answered; median 40 min, 90th percentile 40 min" in stats
    chat.clock.advance(timedelta(hours=3))
    assert await chat.service.inbox.resurface_overdue() == 0


async def test_watch_lists_and_the_lexicon_are_admin_curated(converse) -> None:
    chat = await converse(user="alice", admins=("alice",))
    refused = await chat.say("/as bob", "/social watch add journalists @ledger_maya")
    assert "needs the admin role" in refused
    await chat.say(
        "/as alice", "/social watch add journalists @Ledger_Maya", "/social urgent add mudslide"
    )
    assert "@ledger_maya: journalists" in await chat.say("/social watch")
    assert "Added here: mudslide" in await chat.say("/social urgent list")
    await chat.say("/alerts subscribe route")
    await chat.service.pipeline.ingest([mention(chat, "Mudslide on Route 9", handle="ledger_maya")])
    shown = await chat.tick()
    assert "on the journalists watch list (+20)" in shown
    assert 'urgent term "mudslide" (+30)' in unwrapped(shown)


async def test_a_rule_that_does_not_parse_is_refused_with_its_position(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say("/alerts subscribe flood OR")
    assert "position" in said
    assert "Example: /alerts subscribe" in said
    assert "no subscriptions" in await chat.say("/alerts list")


def test_backtest_replays_a_file_per_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys
    from pathlib import Path

    from adapters.social.sandbox.feed import demo_mentions

    chatops = str(Path(sys.executable).with_name("chatops"))
    rules = tmp_path / "rules.txt"
    rules.write_text(
        '# tuning\nflood OR sandbags\n"boil water" mode:digest\nis:question min_score:30\n'
        "network:mastodon\n"
    )
    feed = (
        Path(__file__).resolve().parents[1] / "adapters" / "social" / "sandbox" / "demo_feed.jsonl"
    )
    result = subprocess.run(
        [chatops, "backtest", str(feed), "--rules", str(rules)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(demo_mentions())} mentions replayed." in result.stdout
    assert "| flood OR sandbags |" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith('| "boil water"'))
    matches, alerts, held, _, _, digest, _ = (int(c) for c in row.strip("|").split("|")[1:])
    assert alerts == held == 0 and digest > 0 and matches >= digest
    assert "| held by the cap | longest hold (min) |" in result.stdout
    # network: knows the sandbox's networks by their kind, as live routing does.
    row = next(line for line in result.stdout.splitlines() if line.startswith("| network:"))
    on_mastodon = [m for m in demo_mentions() if m.network == "sandbox-mastodon"]
    assert int(row.strip("|").split("|")[1]) == len(on_mastodon) > 0

    # A long file shows a progress bar on stderr; a bad rule is refused with its position.
    long_file = tmp_path / "long.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    with long_file.open("w", encoding="utf-8") as out:
        for copy in range(12):
            for line in lines:
                data = json.loads(line)
                data["id"] = f"{data['id']}-{copy}"
                out.write(json.dumps(data) + "\n")
    long = subprocess.run(
        [chatops, "backtest", str(long_file), "--rules", str(rules)], capture_output=True, text=True
    )
    assert long.returncode == 0
    assert "100%" in long.stderr and "mentions" in long.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("flood OR\n")
    refused = subprocess.run(
        [chatops, "backtest", str(feed), "--rules", str(bad)], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert "position" in refused.stderr
