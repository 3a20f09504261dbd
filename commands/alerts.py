"""`/alerts`: which mentions this channel hears about, its digest, and what its cap holds."""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from chatops.listening.rules import MODES, SENTIMENTS, parse_rule, search_query
from chatops.listening.subscriptions import DIGEST_EXAMPLE, RULE_EXAMPLE
from commands.parsing import parse_id, take_word
from commands.registry import CommandContext, Verb

HELD_SHOWN = 20
PREVIEW = 90
GRAMMAR = (
    'Words and "quoted phrases"; OR (or a comma), AND (or a space), NOT (or -), parentheses; '
    f"from:handle, lang:xx, is:question, sentiment:{'|'.join(SENTIMENTS)}, "
    "network:NAME (a network or its kind: x, mastodon, bluesky), account:@handle (the "
    "agency's account it was addressed to), "
    f"min_score:N (0-100; without it every match is relayed), mode:{'|'.join(MODES)}."
)


async def subscribe(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    if not args.strip():
        raise InvalidInput(
            "`/alerts subscribe` needs a rule.", hint=f"Example: `{RULE_EXAMPLE}`. {GRAMMAR}"
        )
    subscription = await ctx.core.subscriptions.subscribe(
        invocation.actor, invocation.channel, args
    )
    rule = parse_rule(subscription.rule)
    lines = [f"Rule: {subscription.rule}"]
    if rule.min_score is None:
        lines.append(
            "Every matching mention is relayed (add min_score:N to keep only notable ones)."
        )
    if rule.mode == "digest":
        lines.append("Matches go to this channel's digest, not as instant alerts.")
    if search_query(rule):
        lines.append(
            "Matching public posts are also searched for, not only mentions of the agency."
        )
    return [Reply(f"Subscribed (id {subscription.id}).", ephemeral=False, lines=tuple(lines))]


async def unsubscribe(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    word, _ = take_word(args)
    if not word:
        raise InvalidInput(
            "`/alerts unsubscribe` needs a subscription id.",
            hint="Example: `/alerts unsubscribe 2` (`/alerts list` shows ids)",
        )
    subscription_id = parse_id(word, "The subscription id", "`/alerts unsubscribe 2`")
    removed = await ctx.core.subscriptions.unsubscribe(
        invocation.actor, invocation.channel, subscription_id
    )
    return [Reply(f"Unsubscribed {removed.id} ({removed.rule}).", ephemeral=False)]


async def listing(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    subscriptions = await ctx.core.subscriptions.of_channel(invocation.channel)
    if not subscriptions:
        return [Reply(f"This channel has no subscriptions. Add one with `{RULE_EXAMPLE}`.")]
    lines = tuple(
        f"{s.id}: {s.rule} (by {s.created_by}; {count} alert(s) in the last 24 h)"
        for s, count in subscriptions
    )
    return [Reply("This channel's subscriptions:", lines=lines)]


async def digest(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    mode, rest = take_word(args)
    at, _ = take_word(rest)
    if not mode:
        raise InvalidInput("`/alerts digest` needs a schedule.", hint=f"Try {DIGEST_EXAMPLE}.")
    when = await ctx.core.subscriptions.set_digest(
        invocation.actor, invocation.channel, mode.lower(), at or "08:00"
    )
    return [
        Reply(
            f"This channel's digest now comes {when} (only when there is something in it).",
            ephemeral=False,
        )
    ]


async def held(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    alerts = ctx.core.alerts
    waiting = await alerts.held(invocation.channel)
    lines = [
        f"Alert {a.id}, score {a.score}: @{a.author}: {_preview(a.text)} {a.url}"
        for a in waiting[:HELD_SHOWN]
    ]
    if len(waiting) > HELD_SHOWN:
        lines.append(f"…and {len(waiting) - HELD_SHOWN} more after these.")
    return [Reply(alerts.cap.summary(len(waiting)), lines=tuple(lines))]


def _preview(text: str) -> str:
    """One line of the mention: a list of held alerts stays one line per alert."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


VERBS = [
    Verb(
        "alerts",
        "subscribe",
        "/alerts subscribe RULE",
        f"Relay matching mentions to this channel. {GRAMMAR}",
        RULE_EXAMPLE,
        subscribe,
    ),
    Verb(
        "alerts",
        "unsubscribe",
        "/alerts unsubscribe ID",
        "Stop a subscription of this channel.",
        "/alerts unsubscribe 2",
        unsubscribe,
    ),
    Verb(
        "alerts",
        "list",
        "/alerts list",
        "This channel's rules, with their alerts of the last 24 hours.",
        "/alerts list",
        listing,
    ),
    Verb(
        "alerts",
        "digest",
        "/alerts digest hourly|daily HH:MM",
        "When this channel's digest comes (default hourly).",
        "/alerts digest daily 08:00",
        digest,
    ),
    Verb(
        "alerts",
        "held",
        "/alerts held",
        "Alerts waiting under this channel's per-minute cap, in the order they will follow.",
        "/alerts held",
        held,
    ),
]
