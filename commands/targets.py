"""`/social targets` and `/social variant`: where drafts go, and one target's own text."""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from commands.parsing import parse_id, take_word
from commands.registry import CommandContext, Verb

TARGETS_EXAMPLE = "/social targets set x:@PortAlderCity,mastodon"
VARIANT_EXAMPLE = "/social variant 3 x:@PortAlderCity Boil-water notice: see portalder.gov"
CLEAR = "--clear"


async def targets(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    """Show this channel's default targets, or set (`set TARGETS`) or clear them."""
    word, rest = take_word(args)
    action = word.lower()
    defaults = ctx.core.targets
    if action == "set":
        if not rest.strip():
            raise InvalidInput(
                "`/social targets set` needs the targets.", hint=f"Example: `{TARGETS_EXAMPLE}`"
            )
        chosen = await defaults.set(invocation.actor, invocation.channel, rest.strip())
        keys = ", ".join(a.key for a in chosen.accounts)
        return [Reply(f"Drafts from this channel now go to {keys} unless `--to` says otherwise.")]
    if action == "clear":
        chosen = await defaults.set(invocation.actor, invocation.channel, None)
        return [
            Reply(
                "This channel has no default targets any more: drafts go to "
                f"{chosen.accounts[0].key} unless `--to` says otherwise."
            )
        ]
    if action:
        raise InvalidInput(
            f"I don't know `/social targets {word}`.",
            hint=f"Use `/social targets`, `{TARGETS_EXAMPLE}` or `/social targets clear`.",
        )
    shown = await defaults.get(invocation.actor, invocation.channel)
    keys = ", ".join(a.key for a in shown.accounts)
    if not shown.spec:
        opening = f"This channel has no default targets: drafts go to {keys}."
    else:
        opening = f"Drafts from this channel go to {keys}."
    return [
        Reply(
            opening,
            lines=(
                f"Change it with `{TARGETS_EXAMPLE}`; name others for one draft with "
                "`/post --to TARGETS TEXT`; `/social accounts` lists them all.",
            ),
        )
    ]


async def variant(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    """Give one target of a draft its own text (`--clear` takes it back to the draft's)."""
    word, rest = take_word(args)
    if not word:
        raise InvalidInput(
            "`/social variant` needs a draft id, a target and the text.",
            hint=f"Example: `{VARIANT_EXAMPLE}`",
        )
    draft_id = parse_id(word, "The draft id", f"`{VARIANT_EXAMPLE}`")
    target, text = take_word(rest)
    if not target or not text.strip():
        raise InvalidInput(
            "`/social variant` needs a target and the text for it.",
            hint=f"Example: `{VARIANT_EXAMPLE}`; `/social variant {draft_id} TARGET {CLEAR}` "
            "gives the target the draft's text again.",
        )
    own = None if text.strip() == CLEAR else text
    outcome = await ctx.core.workflow.vary(invocation.actor, draft_id, target, own)
    return [Reply(outcome.message)]


VERBS = [
    Verb(
        "social",
        "targets",
        "/social targets [set TARGETS | clear]",
        "Where drafts from this channel go without --to (approvers set it).",
        TARGETS_EXAMPLE,
        targets,
    ),
    Verb(
        "social",
        "variant",
        "/social variant ID TARGET TEXT",
        "Give one target of a draft its own text (shorter for X, say); approvals are cleared.",
        VARIANT_EXAMPLE,
        variant,
    ),
]
