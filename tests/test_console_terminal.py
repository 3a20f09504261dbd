"""What the terminal shows: every card line inside its box, measured in terminal cells (CJK
takes two), and a fresh prompt after an alert that arrives while the person is typing."""

from __future__ import annotations

import asyncio
import io
import queue
from collections.abc import Callable, Iterator

import wcwidth

from adapters.chat.console.app import run_console
from adapters.chat.console.chat import CHANNEL, PLATFORM
from adapters.chat.console.render import WIDTH, render_card
from chatops.chat.cards import Card, CardAction, CardField
from chatops.domain.types import SYSTEM_ACTOR, Finding, Mention, MentionAuthor, Severity
from chatops.service import build_service
from tests.harness import make_settings

CJK = (
    "@PortAlderCity 洪水警报发布了吗？我们在低潮区的家已经进水了，请问沙袋在哪里可以领取？"
    "谢谢你们的帮助和快速回应，非常感谢市政府的工作人员，紧急情况下应该打什么电话？"
)


def cells(line: str) -> int:
    return int(wcwidth.width(line))


def assert_boxed(rendered: str) -> None:
    lines = rendered.splitlines()
    assert lines[0].startswith("┌") and lines[-1].startswith("└"), rendered
    too_wide = [line for line in lines if cells(line) > WIDTH]
    assert too_wide == [], "\n".join(too_wide)
    assert all(line.startswith("│") for line in lines[1:-1]), rendered


def test_long_score_findings_and_do_lines_stay_inside_the_box() -> None:
    reasons = "; ".join(f"reason number {n} for this score (+{n})" for n in range(8))
    card = Card(
        kind="draft",
        subject_id=12,
        title="Post draft 12",
        body="Sandbags at Pier 3 until 6pm.",
        fields=(CardField("Score", f"76/100: {reasons}"), CardField("State", "Waiting")),
        findings=(
            Finding("pii.phone", Severity.BLOCKING, "A personal phone number " * 6, "Remove " * 20),
            Finding("tone", Severity.WARNING, "Sounds alarming " * 8, override="bob " + "ok " * 30),
        ),
        actions=tuple(
            CardAction(action, action, "12", revision=3)
            for action in ("draft_approve", "draft_reject", "draft_edit", "draft_cancel")
        ),
        footer="Footnote " * 15,
    )
    rendered = render_card(card, reaction="white_check_mark")
    assert_boxed(rendered)
    text = " ".join(line.removeprefix("│").strip() for line in rendered.splitlines())
    assert "/social approve 12 --revision 3 · /react 12 white_check_mark" in text
    for command in ("/social reject 12 REASON", "/social edit 12 NEW TEXT", "/social cancel 12"):
        assert any(command in line for line in rendered.splitlines()), command  # whole
    assert "reason number 7 for this score (+7)" in text  # wrapped, nothing dropped
    score = next(n for n, line in enumerate(rendered.splitlines()) if "Score: " in line)
    assert rendered.splitlines()[score + 1].startswith("│        ")  # under the value


def test_cjk_text_wraps_by_display_width() -> None:
    card = Card(
        kind="alert",
        subject_id=1,
        title="Question on Sandbox",
        body=CJK,
        fields=(CardField("From", "李明 (@liming), 120 followers"), CardField("Score", CJK)),
    )
    rendered = render_card(card, reaction="white_check_mark")
    assert_boxed(rendered)
    body = "".join(line.removeprefix("│ ") for line in rendered.splitlines()[1:4])
    assert CJK.replace(" ", "") in body.replace(" ", "")  # every character kept, in order


def test_a_link_longer_than_the_box_is_kept_whole() -> None:
    link = "https://example.org/portalder/" + "closures/" * 8 + "main-st"
    card = Card(kind="alert", subject_id=1, title="Mention", body=f"See {link} now", link=link)
    rendered = render_card(card, reaction="white_check_mark")
    assert f"│ {link}" in rendered.splitlines()
    assert f"│       {link}" in rendered.splitlines()  # the Link line, under its value


class TypingTerminal:
    """A terminal's stdin: lines arrive when the test types them."""

    def __init__(self) -> None:
        self.typed: queue.Queue[str | None] = queue.Queue()

    def isatty(self) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        while (line := self.typed.get()) is not None:
            yield line


async def _until(condition: Callable[[], bool], seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the console never showed it")


async def test_a_fresh_prompt_follows_an_alert_that_arrives_while_typing(database_url) -> None:
    service = build_service(make_settings(database_url), open_platforms={PLATFORM})
    await service.social.start()
    await service.core.subscriptions.subscribe(SYSTEM_ACTOR, CHANNEL, "sandbags")
    out, stdin = io.StringIO(), TypingTerminal()
    console = asyncio.create_task(
        run_console(service, user="alice", demo=False, stdin=stdin, out=out)  # type: ignore[arg-type]
    )
    try:
        await _until(lambda: out.getvalue().endswith("alice> "))
        mention = Mention(
            network="sandbox",
            external_id="t-prompt",
            url="https://sandbox.invalid/resident/status/t-prompt",
            author=MentionAuthor(handle="resident"),
            text="Where can I get sandbags? 洪水来了",
            created_at=service.clock.now(),
        )
        await service.pipeline.ingest([mention])
        await _until(lambda: "sandbags" in out.getvalue() and out.getvalue().endswith("alice> "))
        stdin.typed.put("/quit\n")
        await asyncio.wait_for(console, 15)
    finally:
        stdin.typed.put(None)
        console.cancel()
        await service.close()
    shown = out.getvalue()
    before, card = shown.split("┌─ Question on Sandbox", 1)
    assert before.endswith("alice> \n")  # the alert starts below the prompt
    assert card.endswith("─\nalice> ")  # and a fresh prompt follows it
