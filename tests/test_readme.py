"""The README's console transcripts are what `chatops console` prints in a terminal, prompt
and all: a transcript that drifts from the code fails here, not in a new user's hands."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from adapters.chat.console.app import run_console
from adapters.chat.console.chat import PLATFORM
from chatops.runtime.clock import ManualClock
from chatops.service import build_service
from tests.harness import make_settings

README = Path(__file__).parents[1] / "README.md"
SECTION = "## A console session"
PROMPT = re.compile(r"^([^\s>│┌└(]+)> ", re.M)
ELIDED = "│ ..."
# The README's transcripts were taken at this moment (the alert card shows it).
TAKEN_AT = datetime(2026, 11, 21, 19, 42, tzinfo=UTC)


def transcripts() -> list[list[str]]:
    """The ```text blocks of the console section, in order."""
    section = README.read_text("utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [block.splitlines() for block in re.findall(r"```text\n(.*?)```", section, re.S)]


class Terminal:
    """A terminal's stdin: what the person typed, one line at a time."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def isatty(self) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(f"{line}\n" for line in self.lines)


async def _terminal_session(database_url: str, typed: list[str], *, demo: bool) -> list[str]:
    """What the terminal shows: the console's output with each typed line echoed after the
    prompt it was typed at, as the terminal itself echoes it."""
    service = build_service(
        make_settings(database_url), clock=ManualClock(TAKEN_AT), open_platforms={PLATFORM}
    )
    await service.social.start()
    out = io.StringIO()
    try:
        await run_console(service, user="alice", demo=demo, stdin=Terminal(typed), out=out)
    finally:
        await service.close()
    shown, rest = "", out.getvalue()
    for line in typed:
        prompt = PROMPT.search(rest)
        assert prompt is not None, f"no prompt for {line!r} in:\n{rest}"
        shown += rest[: prompt.end()] + line + "\n"
        rest = rest[prompt.end() :]
    last = PROMPT.search(rest)
    assert last is not None and not rest[last.end() :].strip(), rest  # waiting for input
    return (shown + rest[: last.start()]).splitlines()


def _match_at(expected: list[str], actual: list[str], start: int) -> int | None:
    """The end of `expected` laid over `actual` from `start`, or None; `│ ...` stands for
    one or more lines inside a card."""
    at = start
    for number, line in enumerate(expected):
        if line == ELIDED:
            following = expected[number + 1] if number + 1 < len(expected) else None
            skipped = 0
            while at < len(actual) and actual[at].startswith("│") and actual[at] != following:
                at, skipped = at + 1, skipped + 1
            if not skipped:
                return None
            continue
        if at >= len(actual) or actual[at] != line:
            return None
        at += 1
    return at


def _differences(expected: list[str], actual: list[str]) -> str:
    return "README:\n" + "\n".join(expected) + "\n\nconsole:\n" + "\n".join(actual)


async def test_the_readme_session_is_what_the_console_prints(database_url: str) -> None:
    session = transcripts()[0]
    typed = [m.string[m.end() :] for line in session if (m := PROMPT.match(line))]
    assert typed[0].startswith("/post --to") and "/as bob" in typed  # the transcript's story
    shown = await _terminal_session(database_url, typed, demo=False)
    assert any(line.startswith("  ↳ Published on all 3 targets") for line in shown)  # a cross-post
    assert _match_at(session, shown, 0) == len(shown), _differences(session, shown)


async def test_the_readme_alert_card_is_the_demos_first(database_url: str) -> None:
    card = transcripts()[1]
    assert card[0].startswith("┌─") and any(line.startswith("│ Score: ") for line in card)
    shown = await _terminal_session(database_url, [], demo=True)
    found = [s for s in range(len(shown)) if _match_at(card, shown, s) is not None]
    assert found, _differences(card, shown)
