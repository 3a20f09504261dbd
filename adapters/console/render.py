"""Cards and replies as plain text, readable in a terminal and in a test transcript."""

from __future__ import annotations

import textwrap

from chatops.cards import Card
from chatops.domain.types import Severity
from chatops.interaction import Reply

WIDTH = 72

COMMAND_FOR_ACTION = {
    "draft_approve": "/social approve {id} --revision {revision}",
    "draft_reject": "/social reject {id} REASON",
    "draft_edit": "/social edit {id} NEW TEXT",
    "draft_retry": "/social retry {id}",
    "draft_cancel": "/social cancel {id}",
}


def render_card(card: Card, *, reaction: str, note: str = "") -> str:
    badge = f" [{card.badge}]" if card.badge else ""
    heading = f"┌─ {card.title}{badge} {note}".rstrip() + " "
    lines = [heading + "─" * max(3, WIDTH - len(heading))]
    for paragraph in card.body.splitlines() or [""]:
        lines += [
            f"│ {line}"
            for line in textwrap.wrap(
                paragraph, WIDTH - 2, break_long_words=False, break_on_hyphens=False
            )
            or [""]
        ]
    lines.append("│")
    lines += [f"│ {field.label}: {field.value}" for field in card.fields]
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
        lines.append("│ Do: " + " · ".join(commands))
    if card.link and not any(card.link in field.value for field in card.fields):
        lines.append(f"│ Link: {card.link}")
    if card.footer:
        lines.append(f"│ {card.footer}")
    lines.append("└" + "─" * (WIDTH - 1))
    return "\n".join(lines)


def _findings(card: Card) -> list[str]:
    if not card.findings:
        return ["│ Findings: none"]
    lines = ["│ Findings:"]
    for finding in card.findings:
        severity = "BLOCKING" if finding.severity is Severity.BLOCKING else "warning"
        mark = f"{severity} [{finding.code}]"
        accepted = f" (accepted by {finding.override})" if finding.override else ""
        lines.append(f"│   - {mark}: {finding.message}{accepted}")
        if finding.suggestion:
            lines.append(f"│     {finding.suggestion}")
    return lines


def render_reply(reply: Reply) -> str:
    prefix = "(only you) " if reply.ephemeral else ""
    text = reply.render()
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"{prefix}{first}", *(f"  {line}" for line in rest)])
