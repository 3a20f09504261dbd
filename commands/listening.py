"""`/social watch`, `/social urgent` and `/social stats`: tuning and measuring listening."""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from chatops.drafts.compliance import SensitiveTerm
from chatops.listening.curation import WATCH_LISTS
from chatops.listening.stats import ResponseStats, humanize, response_stats
from commands.parsing import parse_id, take_options, take_value, take_word
from commands.registry import CommandContext, Verb

WATCH_EXAMPLE = "/social watch add journalists @ledger_maya"
URGENT_EXAMPLE = "/social urgent add mudslide"


async def watch(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    action, rest = take_word(args)
    curation = ctx.core.curation
    if not action or action == "list":
        entries = await curation.watch()
        if not entries:
            return [Reply("The watch lists are empty.", lines=(f"Add with `{WATCH_EXAMPLE}`.",))]
        lines = tuple(f"@{handle}: {name}" for handle, name in sorted(entries.items()))
        return [Reply("Watched accounts (they score higher):", lines=lines)]
    if action == "add":
        name, rest = take_word(rest)
        handle, _ = take_word(rest)
        lists = ", ".join(WATCH_LISTS[:-1]) + f" and {WATCH_LISTS[-1]}"
        if name and name.lower() not in WATCH_LISTS:
            raise InvalidInput(
                f"There is no watch list {name!r}: the lists are {lists}.",
                hint=f"Example: `{WATCH_EXAMPLE}`",
            )
        if not handle:
            raise InvalidInput(
                "`/social watch add` needs a list and a handle.",
                hint=f"The lists are {lists}. Example: `{WATCH_EXAMPLE}`",
            )
        name = name.lower()
        handle = handle.lstrip("@").lower()
        await curation.add_watch(invocation.actor, name, handle)
        return [Reply(f"@{handle} is on the {name} watch list.", ephemeral=False)]
    if action == "remove":
        handle, _ = take_word(rest)
        if not handle:
            raise InvalidInput(
                "`/social watch remove` needs a handle.",
                hint="Example: `/social watch remove @ledger_maya`",
            )
        handle = handle.lstrip("@").lower()
        removed = await curation.remove_watch(invocation.actor, handle)
        return [
            Reply(
                f"@{handle} "
                + ("is off the watch lists." if removed else "was not on a watch list.")
            )
        ]
    raise InvalidInput(
        f"I don't know `/social watch {action}`.", hint=f"Example: `{WATCH_EXAMPLE}`"
    )


async def urgent(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    action, term = take_word(args)
    term = term.strip().strip('"').lower()
    curation = ctx.core.curation
    if not action or action == "list":
        shipped, added = await curation.urgent_terms()
        lines = (f"Added here: {', '.join(added) or 'none'}", f"Shipped: {', '.join(shipped)}")
        return [Reply("Urgent terms (a mention with one scores as urgent):", lines=lines)]
    if action not in ("add", "remove") or not term:
        raise InvalidInput(
            "`/social urgent add|remove` needs a term.", hint=f"Example: `{URGENT_EXAMPLE}`"
        )
    if action == "add":
        new = await curation.add_urgent(invocation.actor, term)
        return [
            Reply(
                f'"{term}" ' + ("now scores as urgent." if new else "already scores as urgent."),
                ephemeral=False,
            )
        ]
    removed = await curation.remove_urgent(invocation.actor, term)
    return [
        Reply(f'"{term}" ' + ("no longer scores as urgent." if removed else "was not added here."))
    ]


async def stats(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    figures = await response_stats(ctx.core.db, ctx.core.clock.now())
    lines = tuple(_stats_line(f) for f in figures)
    return [Reply("First-response time to residents' questions:", lines=lines)]


def _stats_line(figures: ResponseStats) -> str:
    if figures.median is None or figures.p90 is None:
        return f"Last {figures.days} days: no question was answered."
    return (
        f"Last {figures.days} days: {figures.answered} answered; median "
        f"{humanize(figures.median)}, 90th percentile {humanize(figures.p90)}"
    )


VERBS = [
    Verb(
        "social",
        "watch",
        "/social watch [add LIST @handle | remove @handle]",
        "Watch lists (journalists, officials, partners) that raise a mention's score.",
        WATCH_EXAMPLE,
        watch,
    ),
    Verb(
        "social",
        "urgent",
        "/social urgent [add|remove TERM]",
        "The emergency lexicon that marks a mention as urgent.",
        URGENT_EXAMPLE,
        urgent,
    ),
    Verb(
        "social",
        "stats",
        "/social stats",
        "Median and 90th-percentile first-response time over 7 and 30 days.",
        "/social stats",
        stats,
    ),
]


TERMS_EXAMPLE = '/social terms add "shelter in place" --reason "Only OEM may say it" --warn'


async def terms(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    """The agency's sensitive terms: blocking by default, `--warn` for a warning."""
    action, rest = take_word(args)
    curation = ctx.core.curation
    if not action or action == "list":
        listed = await curation.sensitive_terms()
        if not listed:
            return [Reply("No sensitive terms yet.", lines=(f"Add one: `{TERMS_EXAMPLE}`",))]
        return [
            Reply(
                "Sensitive terms on drafts:",
                lines=tuple(
                    f'"{t.term}" ({"blocking" if t.blocking else "warning"}): {t.reason}'
                    for t in listed
                ),
            )
        ]
    if action not in ("add", "remove") or not rest.strip():
        raise InvalidInput(
            "`/social terms add|remove` needs a term.", hint=f"Example: `{TERMS_EXAMPLE}`"
        )
    term, rest = take_value(rest, "the term", f"`{TERMS_EXAMPLE}`")
    term = " ".join(term.lower().split())
    if action == "remove":
        removed = await curation.remove_sensitive(invocation.actor, term)
        return [
            Reply(f'"{term}" ' + ("is no longer flagged." if removed else "was not on the list."))
        ]
    warn = "--warn" in rest.split()
    rest = " ".join(word for word in rest.split(" ") if word != "--warn")
    options, leftover = take_options(rest, {"--reason": '`--reason "why"`'}, f"`{TERMS_EXAMPLE}`")
    reason = options.get("--reason") or leftover
    if not reason:
        raise InvalidInput("A sensitive term needs a reason.", hint=f"Example: `{TERMS_EXAMPLE}`")
    await curation.add_sensitive(invocation.actor, SensitiveTerm(term, reason, not warn))
    kind = "a warning" if warn else "blocking"
    return [Reply(f'"{term}" is now flagged on drafts ({kind}): {reason}', ephemeral=False)]


async def override(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    example = "/social override 3 unapproved_link The county site is a partner"
    word, rest = take_word(args)
    code, reason = take_word(rest)
    if not word or not code:
        raise InvalidInput(
            "`/social override` needs a draft id, a warning's code (on the card) and a reason.",
            hint=f"Example: `{example}`",
        )
    draft_id = parse_id(word, "The draft id", f"`{example}`")
    outcome = await ctx.core.workflow.override_warning(invocation.actor, draft_id, code, reason)
    return [Reply(outcome.message, ephemeral=False)]


VERBS += [
    Verb(
        "social",
        "terms",
        "/social terms [add TERM --reason TEXT [--warn] | remove TERM]",
        "The agency's forbidden or sensitive terms, each with a reason (admins).",
        TERMS_EXAMPLE,
        terms,
    ),
    Verb(
        "social",
        "override",
        "/social override ID CODE REASON",
        "An admin accepts a warning on a draft (its code is on the card), with a reason "
        "that is recorded.",
        "/social override 3 unapproved_link The county site is a partner",
        override,
    ),
]
