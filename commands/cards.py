"""Posting a draft's card where the command ran and remembering where it is."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from chatops.chat.cards import Card, draft_card
from chatops.domain.errors import ChannelUnavailable
from chatops.domain.types import ChannelRef, Draft
from commands.registry import CommandContext

log = structlog.get_logger(__name__)


async def show_draft_card(ctx: CommandContext, channel: ChannelRef, draft: Draft) -> None:
    card = draft_card(draft, zone=ctx.core.zone, labels=ctx.core.label)
    ref = await ctx.chat.post_card(channel, card)
    await ctx.core.workflow.attach_card(draft.id, ref, revision=draft.revision)


@dataclass(frozen=True)
class Shown:
    """What the person who asked is told about a card that was not shown as it should be:
    `lines` for their reply, and `card` to show with it when it could not be posted."""

    lines: tuple[str, ...] = ()
    card: Card | None = None


async def show_or_explain(ctx: CommandContext, channel: ChannelRef, draft: Draft) -> Shown:
    """Post the draft's card and record it; the draft is already committed, so a failure of
    either step is said to the person (with the card, when it could not be posted) instead
    of failing the command. A draft with no card record still publishes, and the publisher
    then says so in the channel the draft came from."""
    card = draft_card(draft, zone=ctx.core.zone, labels=ctx.core.label)
    try:
        ref = await ctx.chat.post_card(channel, card)
    except ChannelUnavailable as error:
        return Shown((f"But: {error}",))
    except Exception as error:
        log.warning("draft_card_not_posted", draft_id=draft.id, error=_described(error))
        return Shown(
            (
                f"Its card could not be posted in this channel, so here it is for you. "
                f"Show it here again with `/social show {draft.id}`.",
            ),
            card,
        )
    try:
        await ctx.core.workflow.attach_card(draft.id, ref, revision=draft.revision)
    except Exception as error:
        log.warning("draft_card_not_recorded", draft_id=draft.id, error=_described(error))
        return Shown(
            (
                f"Its card could not be recorded, so reactions on it will not count. Approve "
                f"with `/social approve {draft.id}`, or show a new card with "
                f"`/social show {draft.id}`.",
            )
        )
    return Shown()


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
