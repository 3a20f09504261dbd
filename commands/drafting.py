"""`/post` and `/reply`: new drafts, which publish nothing until approved."""

from __future__ import annotations

from chatops.chat.cards import blocked_fixes
from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from chatops.domain.types import ChannelRef, Draft, MediaItem
from chatops.drafts.image_sources import ImageSources
from chatops.drafts.scheduling import format_local, parse_when
from chatops.drafts.workflow import NewDraft
from commands.cards import Shown, show_or_explain
from commands.parsing import Options, take_options, take_word
from commands.registry import CommandContext, Verb

POST_EXAMPLE = '/post --at "tomorrow 9am" Road closure on Main St tonight 8pm-6am.'
IMAGE_EXAMPLE = (
    '/post --image https://example.gov/detour.png --alt "Map of the detour via Oak Ave" '
    "Detour tonight."
)
REPLY_EXAMPLE = "/reply sbx-0012 Thanks for flagging this, crews are on the way."
OPTIONS = {
    "--at": '`--at "tomorrow 9am"`',
    "--to": "`--to x:@PortAlderCity,mastodon`",
    "--account": "`--account @PortAlderWater`",
    "--image": f"`{IMAGE_EXAMPLE}`",
    "--alt": f"`{IMAGE_EXAMPLE}`",
}
MEDIA_OPTIONS = frozenset({"--image", "--alt"})


async def post(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    options, text = take_options(args, OPTIONS, f"`{POST_EXAMPLE}`", repeatable=MEDIA_OPTIONS)
    if not text:
        raise InvalidInput("There is no text to post.", hint=f"Example: `{POST_EXAMPLE}`")
    if "--to" in options and "--account" in options:
        raise InvalidInput(
            "Use `--to` or `--account`, not both: `--to` names every target.",
            hint="Example: `/post --to x:@PortAlderCity,mastodon Road closed on Main St.`",
        )
    scheduled = None
    if "--at" in options:
        scheduled = parse_when(options["--at"], now=ctx.core.clock.now(), zone=ctx.core.zone)
    new = NewDraft(
        text=text,
        targets=_targets(ctx, options),
        scheduled_at=scheduled,
        media=_media(options, ctx.core.image_sources),
    )
    draft = await ctx.core.workflow.create(invocation.actor, invocation.channel, new)
    return [await _show_and_receipt(ctx, invocation, draft)]


def _targets(ctx: CommandContext, options: Options) -> str | None:
    """`--to` as typed; `--account @handle` (one account) as that account's target."""
    account = options.get("--account")
    if account is None:
        return options.get("--to")
    if ":" in account:
        return account
    return ctx.core.workflow.networks.one_account(account)[0].key


def _media(options: Options, sources: ImageSources) -> tuple[MediaItem, ...]:
    """`--image URL` starts an image; an `--alt TEXT` after it describes that image. An
    address the worker would refuse to fetch is refused now, before anyone approves."""
    media: list[MediaItem] = []
    for name, value in options.pairs:
        if name == "--image":
            refusal = sources.url_refusal(value)
            if refusal is not None:
                raise InvalidInput(
                    f"Image {len(media) + 1} cannot be used: {refusal}.",
                    hint=f"Example: `{IMAGE_EXAMPLE}`",
                )
            media.append(MediaItem(value))
        elif name == "--alt":
            if not media:
                raise InvalidInput(
                    "`--alt` describes the `--image` before it.", hint=f"Example: `{IMAGE_EXAMPLE}`"
                )
            media[-1] = MediaItem(media[-1].url, value.strip())
    return tuple(media)


async def reply(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    reference, text = take_word(args)
    if not reference or not text.strip():
        raise InvalidInput(
            "`/reply` needs the mention's id or link and then your text.",
            hint=f"Example: `{REPLY_EXAMPLE}`",
        )
    mention = await ctx.core.workflow.resolve_mention(reference)
    draft = await ctx.core.workflow.create(
        invocation.actor, invocation.channel, NewDraft(text=text.strip(), reply_to=mention)
    )
    return [await _show_and_receipt(ctx, invocation, draft)]


async def _show_and_receipt(ctx: CommandContext, invocation: Invocation, draft: Draft) -> Reply:
    """Post the card where the command ran; whatever goes wrong with it, the draft still
    exists and the person is told so, with the card and what to type next."""
    return _receipt(ctx, draft, await show_or_explain(ctx, invocation.channel, draft))


async def show_reply_draft(ctx: CommandContext, channel: ChannelRef, draft: Draft) -> Reply | None:
    """A reply drafted from an alert's button: its card goes to the alert's channel, and
    only if that goes wrong is there something to tell the person (privately), with the
    card when it could not be posted."""
    shown = await show_or_explain(ctx, channel, draft)
    return _receipt(ctx, draft, shown) if shown.lines else None


def _receipt(ctx: CommandContext, draft: Draft, shown: Shown) -> Reply:
    """What the author is told of a new draft, with whatever went wrong with its card."""
    kind = "Reply" if draft.reply_to_id else "Draft"
    needs = draft.required_approvals
    plural = "approval" if needs == 1 else "distinct approvals"
    text = f"{kind} {draft.id} created; it needs {needs} {plural} before it is published."
    lines = []
    if len(draft.targets) > 1:
        keys = ", ".join(t.key for t in draft.targets)
        lines.append(f"One approval publishes it to all {len(draft.targets)} targets: {keys}.")
    if draft.scheduled_at is not None:
        when = format_local(draft.scheduled_at, ctx.core.zone)
        lines.append(f"Once approved it will be published {when}.")
    if draft.blocking_findings:
        lines.append(f"It cannot be approved yet: {blocked_fixes(draft)}.")
    return Reply(text, lines=(*lines, *shown.lines), card=shown.card)


VERBS = [
    Verb(
        "post",
        "",
        "/post [--to TARGETS] [--at WHEN] [--image URL --alt TEXT] TEXT",
        "Draft a new post to accounts (`x:@PortAlderCity`), networks (`mastodon`) or `all` "
        "(default: the channel's targets); WHEN is natural language in the agency's time "
        "zone; every image needs alt text.",
        POST_EXAMPLE,
        post,
    ),
    Verb("reply", "", "/reply URL-or-ID TEXT", "Draft a reply to a mention.", REPLY_EXAMPLE, reply),
]
