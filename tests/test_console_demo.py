"""The console's demo feed, as `make run` plays it, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta

from adapters.chat.console.app import run_console
from adapters.chat.console.chat import PLATFORM
from adapters.social.sandbox.feed import CITY_ACCOUNTS, demo_feed
from chatops.runtime.clock import ManualClock
from chatops.service import build_service
from tests.conftest import START
from tests.harness import make_settings

CARD = " on Sandbox [SANDBOX] ─"  # the title line of every alert card


async def _console_with_demo(database_url: str, clock: ManualClock) -> str:
    """One `chatops console` session with the demo on, the whole feed in its first poll."""
    service = build_service(make_settings(database_url), clock=clock, open_platforms={PLATFORM})
    await service.social.start()
    out = io.StringIO()
    try:
        await run_console(
            service,
            user="alice",
            demo=True,
            stdin=io.StringIO("/alerts list\n"),
            out=out,
            demo_batch=len(demo_feed()),
        )
    finally:
        await service.close()
    return out.getvalue()


async def test_the_demo_plays_again_on_the_same_database(database_url: str) -> None:
    first = await _console_with_demo(database_url, ManualClock(START))
    assert "Demo feed on" in first
    assert first.count(CARD) > 0
    assert "starts again" not in first

    second = await _console_with_demo(database_url, ManualClock(START + timedelta(hours=1)))
    assert "Demo feed on" in second
    assert "The demo feed had played to its end: it starts again now, with new ids." in second
    assert second.count(CARD) == first.count(CARD)
    assert "-r2" in second  # the replayed mentions' own ids, for `/reply`


async def test_the_agencys_own_posts_in_the_demo_are_not_alerts(database_url: str) -> None:
    """Before, @PortAlderCity's own announcements came in as open mentions to answer."""
    shown = await _console_with_demo(database_url, ManualClock(START))
    authors = [line for line in shown.splitlines() if line.startswith("│ From: ")]
    assert len(authors) == shown.count(CARD) > 0
    own = [line for line in authors if any(f"(@{handle})" in line for handle in CITY_ACCOUNTS)]
    assert own == []
