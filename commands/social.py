"""`/social`: the queue and the decisions on drafts."""

from __future__ import annotations

from collections.abc import Collection

from chatops.chat.cards import draft_card
from chatops.chat.interaction import Invocation, Reply
from chatops.chat.reactions import reaction_name, reaction_names
from chatops.domain.errors import InvalidInput, OutdatedCard
from chatops.domain.types import Draft, DraftState, MessageRef, Via
from chatops.drafts.scheduling import format_local
from chatops.runtime.logs import bind_command_context
from commands.cards import show_or_explain
from commands.parsing import parse_id, take_options, take_word
from commands.registry import CommandContext, Verb

PREVIEW = 60
QUOTE_LIMIT = 300
APPROVE_EXAMPLE = "/social approve 3"
REVISION_OPTION = {"--revision": "`/social approve 3 --revision 2`"}


async def queue(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    drafts = await ctx.core.workflow.queue(invocation.actor)
    if not drafts:
        return [Reply("The queue is empty: nothing is waiting for approval or publication.")]
    lines = tuple(_queue_line(ctx, draft) for draft in drafts)
    return [Reply(f"{len(drafts)} draft(s) in the queue:", lines=lines)]


def _queue_line(ctx: CommandContext, draft: Draft) -> str:
    text = draft.text if len(draft.text) <= PREVIEW else draft.text[: PREVIEW - 1] + "…"
    status = draft.state.value
    if draft.state is DraftState.PENDING:
        status += f", {len(draft.approvals)}/{draft.required_approvals} approvals"
    if draft.scheduled_at is not None and draft.state in (DraftState.PENDING, DraftState.APPROVED):
        status += f", scheduled {format_local(draft.scheduled_at, ctx.core.zone)}"
    if draft.partly_published:
        status = draft.summary
    where = (
        ", ".join(t.key for t in draft.targets) if len(draft.targets) > 1 else f"@{draft.account}"
    )
    return f"#{draft.id} [{status}] {where} by {draft.author}: {text}"


async def show(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    """A new card of the draft here: the way back to a card that was lost or never posted."""
    draft_id, _ = _draft_id(args, "show", "/social show 3")
    draft = await ctx.core.workflow.get(draft_id, invocation.actor)
    shown = await show_or_explain(ctx, invocation.channel, draft)
    return [Reply(f"Draft {draft_id}'s current card.", lines=shown.lines, card=shown.card)]


def _draft_id(args: str, verb: str, example: str) -> tuple[int, str]:
    word, rest = take_word(args)
    if not word:
        raise InvalidInput(f"`/social {verb}` needs a draft id.", hint=f"Example: `{example}`")
    return parse_id(word, "The draft id", f"`{example}`"), rest.strip()


async def approve(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    """Approve the revision named by `--revision` (the console card prints it), else the
    current one; the confirmation quotes the text that was approved."""
    draft_id, rest = _draft_id(args, "approve", APPROVE_EXAMPLE)
    options, _ = take_options(rest, REVISION_OPTION, f"`{APPROVE_EXAMPLE}`")
    workflow = ctx.core.workflow
    if "--revision" in options:
        seen = parse_id(options["--revision"], "The revision", REVISION_OPTION["--revision"])
    else:
        seen = (await workflow.get(draft_id)).revision
    try:
        outcome = await workflow.approve(
            invocation.actor, draft_id, invocation.via, seen_revision=seen
        )
    except OutdatedCard as outdated:
        return show_current(ctx, outdated)
    if not outcome.changed:
        return [Reply(outcome.message)]
    return [Reply(f"{outcome.message} Approved text: {quoted(outcome.draft.text)}")]


def quoted(text: str) -> str:
    """The text in quotes, shortened past QUOTE_LIMIT characters with how much is shown."""
    if len(text) <= QUOTE_LIMIT:
        return f"“{text}”"
    return f"“{text[: QUOTE_LIMIT - 1]}…” (the first {QUOTE_LIMIT - 1} of {len(text):,} characters)"


def show_current(ctx: CommandContext, outdated: OutdatedCard) -> list[Reply]:
    """An approval of an outdated revision: why nothing was approved, with the current card,
    for the person who asked."""
    card = draft_card(outdated.draft, zone=ctx.core.zone, labels=ctx.core.label)
    return [Reply(str(outdated), card=card)]


async def reject(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    draft_id, reason = _draft_id(args, "reject", "/social reject 3 Wrong date")
    outcome = await ctx.core.workflow.reject(invocation.actor, draft_id, reason)
    return [Reply(outcome.message)]


async def cancel(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    draft_id, _ = _draft_id(args, "cancel", "/social cancel 3")
    outcome = await ctx.core.workflow.cancel(invocation.actor, draft_id)
    return [Reply(outcome.message)]


async def edit(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    example = "/social edit 3 Main St reopens at 6am."
    draft_id, text = _draft_id(args, "edit", example)
    if not text:
        raise InvalidInput(
            "`/social edit` needs the new text after the id.", hint=f"Example: `{example}`"
        )
    outcome = await ctx.core.workflow.edit(invocation.actor, draft_id, text)
    return [Reply(outcome.message)]


async def alt(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    example = "/social alt 3 2 Sandbags stacked at the Pier 3 entrance"
    draft_id, rest = _draft_id(args, "alt", example)
    number_word, text = take_word(rest)
    number = 1
    if number_word.isascii() and number_word.isdecimal() and text:
        number = min(int(number_word), 99)
    else:
        text = rest
    if not text.strip():
        raise InvalidInput(
            "`/social alt` needs the description after the id (and image number).",
            hint=f"Example: `{example}`",
        )
    draft = await ctx.core.workflow.get(draft_id)
    if 1 <= number <= len(draft.media):
        refusal = ctx.core.image_sources.url_refusal(draft.media[number - 1].url)
        if refusal is not None:  # say so now: it would fail at publication
            raise InvalidInput(
                f"Image {number} of draft {draft_id} cannot be published: {refusal}.",
                hint="Start a new draft with an image from a public web site.",
            )
    outcome = await ctx.core.workflow.describe_image(invocation.actor, draft_id, number, text)
    return [Reply(outcome.message)]


async def retry(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    """Retry what failed: every failed target, or only the one named."""
    draft_id, rest = _draft_id(args, "retry", "/social retry 3")
    target = rest.split()[0] if rest.split() else None
    outcome = await ctx.core.workflow.retry(invocation.actor, draft_id, target)
    return [Reply(outcome.message)]


async def approve_by_reaction(
    ctx: CommandContext,
    invocation: Invocation,
    draft_id: int,
    reaction: str,
    *,
    added: bool,
    seen_revision: int,
    card: MessageRef | None,
    approval_reactions: Collection[str] | None = None,
) -> list[Reply]:
    """A reaction on a draft's card: an approval reaction approves (or withdraws) like a button.

    Every platform's raw reaction comes here and is normalized once (`reaction_name`), so
    `+1::skin-tone-3` and `:thumbsup:` approve wherever `+1` does. `card` is the reacted
    message (None when there is none to record against): removing one approval reaction
    withdraws the approval only when the person has no other one left on that card.
    `seen_revision` is the revision the reacted card displays (as recorded). Other reactions
    are ignored (an empty list); a refusal raises (`OutdatedCard` when the card is out of
    date), so each adapter can show it privately to the person who reacted.
    """
    name = reaction_name(reaction)
    approving = reaction_names(approval_reactions or ctx.core.approval_reactions)
    if name not in approving:
        return []
    workflow = ctx.core.workflow
    actor = invocation.actor
    command = "reaction_added" if added else "reaction_removed"
    with bind_command_context(platform=actor.platform, user=actor.user_id, command=command):
        left: list[str] = []
        if card is not None:
            on_card = await workflow.note_reaction(card, actor, name, added=added)
            left = [other for other in on_card if other in approving]
        if added:
            outcome = await workflow.approve(
                actor, draft_id, Via.REACTION, seen_revision=seen_revision
            )
        elif left:
            still = ", ".join(f":{other}:" for other in left)
            return [
                Reply(
                    f"Removed :{name}:. You still have {still} on draft {draft_id}'s card, "
                    "so nothing was withdrawn."
                )
            ]
        else:
            outcome = await workflow.withdraw_approval(actor, draft_id)
    return [Reply(outcome.message)]


VERBS = [
    Verb(
        "social",
        "queue",
        "/social queue",
        "Pending, approved and scheduled drafts.",
        "/social queue",
        queue,
    ),
    Verb(
        "social",
        "show",
        "/social show ID",
        "Post a draft's current card here again.",
        "/social show 3",
        show,
    ),
    Verb(
        "social",
        "approve",
        "/social approve ID [--revision N]",
        "Approve a draft's current text (approvers only, never one you wrote or changed); "
        "with --revision, only if it is still revision N.",
        "/social approve 3",
        approve,
    ),
    Verb(
        "social",
        "reject",
        "/social reject ID [reason]",
        "Reject a pending draft.",
        "/social reject 3 Wrong detour street",
        reject,
    ),
    Verb(
        "social",
        "cancel",
        "/social cancel ID",
        "Cancel a pending or approved draft.",
        "/social cancel 3",
        cancel,
    ),
    Verb(
        "social",
        "edit",
        "/social edit ID TEXT",
        "Replace a draft's text; approvals are cleared.",
        "/social edit 3 Main St reopens at 6am.",
        edit,
    ),
    Verb(
        "social",
        "alt",
        "/social alt ID [N] TEXT",
        "Describe image N (default 1) of a draft for screen readers; approvals are cleared.",
        "/social alt 3 2 Sandbags stacked at the Pier 3 entrance",
        alt,
    ),
    Verb(
        "social",
        "retry",
        "/social retry ID [TARGET]",
        "Queue a failed publication again: every failed target, or only TARGET.",
        "/social retry 3",
        retry,
    ),
]
