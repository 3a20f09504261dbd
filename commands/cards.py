"""Posting a draft's card where the command ran and remembering where it is."""

from __future__ import annotations

from chatops.cards import draft_card
from chatops.domain.types import ChannelRef, Draft
from commands.registry import CommandContext


async def show_draft_card(ctx: CommandContext, channel: ChannelRef, draft: Draft) -> None:
    card = draft_card(draft, zone=ctx.core.zone, network_label=ctx.core.network_label)
    ref = await ctx.chat.post_card(channel, card)
    await ctx.core.workflow.attach_card(draft.id, ref, revision=draft.revision)
