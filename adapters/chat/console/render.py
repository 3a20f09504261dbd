"""Cards and replies as plain text, readable in a terminal and in a test transcript.

Every line of a card is wrapped to fit inside its box, measured in terminal cells (a CJK
character takes two), so a long Score, Findings or Do line or a mention in Chinese stays
within the frame. A link is never broken: a terminal could no longer open it.
"""

from __future__ import annotations

import re

import wcwidth

from adapters.chat.console.terminal import printable
from chatops.chat.cards import Card
from chatops.chat.interaction import Reply
from chatops.domain.types import Severity

WIDTH = 72
BAR = "│ "
_LINK = re.compile(r"\S*https?://\S+")

COMMAND_FOR_ACTION = {
    "draft_approve": "/social approve {id} --revision {revision}",
    "draft_reject": "/social reject {id} REASON",
    "draft_edit": "/social edit {id} NEW TEXT",
    "draft_retry": "/social retry {id}",
    "draft_cancel": "/social cancel {id}",
    "alert_assign": "/alerts assign {id}",
    "alert_handled": "/alerts handled {id}",
}


def render_card(card: Card, *, reaction: str, note: str = "") -> str:
    badge = f" [{card.badge}]" if card.badge else ""
    heading = printable(f"┌─ {card.title}{badge} {note}".rstrip() + " ")
    lines = [heading + "─" * max(3, WIDTH - display_width(heading))]
    for paragraph in card.body.splitlines() or [""]:
        lines += _boxed(paragraph)
    lines.append(BAR.rstrip())
    for field in card.fields:
        lines += _boxed(f"{field.label}: {field.value}", hang=len(field.label) + 2)
    if card.kind == "draft":
        lines += _findings(card)
    commands = [
        COMMAND_FOR_ACTION[action.action_id].format(id=action.value, revision=action.revision)
        for action in card.actions
        if action.action_id in COMMAND_FOR_ACTION
    ]
    if any(action.action_id == "draft_approve" for action in card.actions):
        commands.insert(1, f"/react {card.subject_id} {reaction}")
    if commands:
        lines += _commands("Do: ", commands)
    if card.link and not any(card.link in field.value for field in card.fields):
        lines += _boxed(f"Link: {card.link}", hang=6)
    if card.footer:
        lines += _boxed(card.footer)
    lines.append("└" + "─" * (WIDTH - 1))
    return "\n".join(lines)


def _findings(card: Card) -> list[str]:
    if not card.findings:
        return [BAR + "Findings: none"]
    lines = [BAR + "Findings:"]
    for finding in card.findings:
        severity = "BLOCKING" if finding.severity is Severity.BLOCKING else "warning"
        mark = f"{severity} [{finding.code}]"
        accepted = f" (accepted by {finding.override})" if finding.override else ""
        lines += _boxed(f"  - {mark}: {finding.message}{accepted}", hang=4)
        if finding.suggestion:
            lines += _boxed(f"    {finding.suggestion}", hang=4)
    return lines


def _commands(label: str, commands: list[str]) -> list[str]:
    """Commands packed into lines, each whole (a command split across lines cannot be
    copied), continuation lines under the first command."""
    hang = " " * len(label)
    lines: list[str] = []
    line = label
    for command in commands:
        if line.strip() == label.strip():
            line += command
        elif display_width(f"{BAR}{line} · {command}") <= WIDTH:
            line += f" · {command}"
        else:
            lines += _boxed(line + " ·")
            line = hang + command
    return [*lines, *_boxed(line, hang=len(label))]


def _boxed(text: str, *, hang: int = 0) -> list[str]:
    """`text` in lines that fit inside the box after its bar, continuation lines indented
    by `hang` cells (under a field's value)."""
    return [BAR + line for line in wrap_cells(printable(text), WIDTH - 2, hang=hang)]


def wrap_cells(text: str, width: int, *, hang: int = 0) -> list[str]:
    """Wrap at spaces to `width` terminal cells, continuation lines indented by `hang`; a
    word wider than a line (a run of CJK text, which has no spaces) is broken to fill it,
    except a link, which is kept whole on a line of its own."""
    words = text.lstrip(" ")
    indent = " " * (len(text) - len(words))
    subsequent = " " * hang
    long_link = any(display_width(link) > width - hang for link in _LINK.findall(words))
    lines = wcwidth.wrap(
        words,
        width,
        initial_indent=indent,
        subsequent_indent=subsequent,
        break_long_words=not long_link,
        break_on_hyphens=False,
    )
    if not long_link:
        return lines or [""]
    kept: list[str] = []
    for line in lines:
        if display_width(line) <= width or _LINK.fullmatch(line.strip()):
            kept.append(line)
        else:  # a long word that is not the link
            kept += wcwidth.wrap(
                line.strip(),
                width,
                initial_indent=subsequent if kept else indent,
                subsequent_indent=subsequent,
                break_on_hyphens=False,
            )
    return kept


def display_width(text: str) -> int:
    """How many terminal cells `text` takes."""
    return int(wcwidth.width(text))


def render_reply(reply: Reply) -> str:
    prefix = "(only you) " if reply.ephemeral else ""
    text = reply.render()
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"{prefix}{first}", *(f"  {line}" for line in rest)])
