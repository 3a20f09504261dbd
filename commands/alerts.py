"""`/alerts`: which mentions this channel hears about."""

from __future__ import annotations

from chatops.domain.errors import InvalidInput
from chatops.interaction import Invocation, Reply
from chatops.monitoring import RULE_EXAMPLE
from commands.parsing import parse_id, take_word
from commands.registry import CommandContext, Verb


async def subscribe(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    if not args.strip():
        raise InvalidInput(
            "`/alerts subscribe` needs keywords to listen for.", hint=f"Example: {RULE_EXAMPLE}"
        )
    subscription = await ctx.core.subscriptions.subscribe(
        invocation.actor, invocation.channel, args
    )
    words = ", ".join(subscription.keywords)
    return [
        Reply(
            f"Subscribed (id {subscription.id}): this channel will get mentions "
            f"containing any of: {words}.",
            ephemeral=False,
        )
    ]


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
        return [Reply(f"This channel has no subscriptions. Add one with {RULE_EXAMPLE}.")]
    lines = tuple(f"{s.id}: {s.rule} (by {s.created_by})" for s in subscriptions)
    return [Reply("This channel's subscriptions:", lines=lines)]


VERBS = [
    Verb(
        "alerts",
        "subscribe",
        "/alerts subscribe RULE",
        'Relay mentions containing any of these keywords or "quoted phrases" to this channel.',
        '/alerts subscribe flood, "road closure", outage',
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
        "alerts", "list", "/alerts list", "This channel's subscriptions.", "/alerts list", listing
    ),
]
