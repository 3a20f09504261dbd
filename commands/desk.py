"""`/alerts assign`, `/alerts handled` and `/alerts inbox`: the alert desk by command.

The card's buttons do the same on Slack and Teams; the console has no buttons, and a
person anywhere may prefer typing, so every platform gets the verbs.
"""

from __future__ import annotations

from datetime import datetime

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from chatops.drafts.scheduling import format_local
from chatops.listening.inbox import INBOX_LIMIT, Waiting
from commands.parsing import parse_id, take_word
from commands.registry import CommandContext, Verb

ASSIGN_EXAMPLE = "/alerts assign 4 @maria"
HANDLED_EXAMPLE = "/alerts handled 4"
PREVIEW = 80


def _alert_id(args: str, verb: str, example: str) -> tuple[int, str]:
    word, rest = take_word(args)
    if not word:
        raise InvalidInput(
            f"`/alerts {verb}` needs an alert id.",
            hint=f"Example: `{example}` (`/alerts inbox` lists open questions with their ids).",
        )
    return parse_id(word, "The alert id", f"`{example}`"), rest


async def assign(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    alert_id, rest = _alert_id(args, "assign", ASSIGN_EXAMPLE)
    person, extra = take_word(rest)
    if extra.strip():
        raise InvalidInput(
            "`/alerts assign` takes an alert id and at most one person.",
            hint=f"Example: `{ASSIGN_EXAMPLE}`",
        )
    assignee = person.lstrip("@") or None
    if person and not assignee:
        raise InvalidInput("Whom should I assign it to?", hint=f"Example: `{ASSIGN_EXAMPLE}`")
    alert = await ctx.core.alerts.assign(invocation.actor, alert_id, assignee)
    who = "you" if alert.assignee == invocation.actor.user_id else alert.assignee
    return [Reply(f"Alert {alert_id} is assigned to {who}.", ephemeral=False)]


async def handled(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    alert_id, _ = _alert_id(args, "handled", HANDLED_EXAMPLE)
    desk = ctx.core.alerts
    alert = await desk.get(alert_id, invocation.actor)
    if alert.state == "handled":
        by = f" by {alert.handled_by}" if alert.handled_by else ""
        return [Reply(f"Alert {alert_id} was already handled{by}.")]
    await desk.mark_handled(invocation.actor, alert_id)
    return [Reply(f"Alert {alert_id} is handled, by {invocation.actor.name}.", ephemeral=False)]


async def inbox(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    waiting = await ctx.core.alerts.awaiting_answer(invocation.actor, invocation.channel)
    if not waiting:
        return [Reply("No question in this channel is waiting for an answer.")]
    now = ctx.core.clock.now()
    lines = [_line(ctx, question, now) for question in waiting[:INBOX_LIMIT]]
    if len(waiting) > INBOX_LIMIT:
        lines.append(f"Only the {INBOX_LIMIT} with the nearest deadlines are shown.")
    lines.append("Act on one with `/alerts assign ALERT [@person]` or `/alerts handled ALERT`.")
    return [Reply("Questions waiting for an answer, nearest deadline first:", lines=tuple(lines))]


def _line(ctx: CommandContext, question: Waiting, now: datetime) -> str:
    text = " ".join(question.text.split())
    if len(text) > PREVIEW:
        text = text[: PREVIEW - 1] + "…"
    if question.due_at is None:
        due = "no deadline"
    else:
        late = " (overdue)" if question.due_at <= now else ""
        due = f"due {format_local(question.due_at, ctx.core.zone)}{late}"
    who = f"assigned to {question.assignee}" if question.assignee else "nobody assigned"
    return (
        f"Alert {question.alert_id}: @{question.handle}: “{text}” ({due}; {who}). "
        f"Reply with `/reply {question.reference} TEXT`"
    )


VERBS = [
    Verb(
        "alerts",
        "inbox",
        "/alerts inbox",
        "This channel's questions waiting for an answer, with their deadlines.",
        "/alerts inbox",
        inbox,
    ),
    Verb(
        "alerts",
        "assign",
        "/alerts assign ALERT [@person]",
        "Assign an alert to yourself or a colleague, like the card's Assign button.",
        ASSIGN_EXAMPLE,
        assign,
    ),
    Verb(
        "alerts",
        "handled",
        "/alerts handled ALERT",
        "Mark an alert handled, like the card's Mark handled button.",
        HANDLED_EXAMPLE,
        handled,
    ),
]
