"""A draft is committed before its card is posted: whatever goes wrong with the card after
that, the person sees the card or is told how to get it, and the draft still publishes
with its link said where it came from. On SQLite and PostgreSQL, in the console."""

from __future__ import annotations

from adapters.chat.console.chat import ConsoleChat
from chatops.chat.cards import Card
from chatops.domain.types import ChannelRef, DraftState, MessageRef

ROAD = "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."


class FirstCardFails(ConsoleChat):
    """A chat whose first card post fails the way a platform outage or a bug would."""

    failed = False

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the platform answered 500")
        return await super().post_card(channel, card)


class RepeatsMessageIds(ConsoleChat):
    """A chat that gives every message the same id (as the console once did across
    sessions), so recording the second card breaks the cards table's unique constraint."""

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef:
        await super().post_card(channel, card)
        return MessageRef(channel, "m1")


async def test_a_card_that_cannot_be_posted_is_shown_with_the_reply(converse) -> None:
    chat = await converse(user="alice", chat=FirstCardFails)
    said = await chat.say(ROAD)
    assert "Draft 1 created" in said
    assert "Something went wrong" not in said
    assert "Its card could not be posted in this channel, so here it is" in said
    assert "Post draft 1" in said  # the card itself, with the reply
    assert "/social show 1" in said

    again = await chat.say("/social show 1")
    assert "Post draft 1" in again
    assert "could not" not in again
    approved = await chat.say("/as bob", "/react 1 white_check_mark")
    assert "approved by bob" in approved
    assert "https://sandbox.invalid/PortAlderCity/status/" in approved


async def test_a_card_that_cannot_be_recorded_still_publishes_its_link_here(converse) -> None:
    chat = await converse(user="alice", chat=RepeatsMessageIds)
    await chat.say(ROAD)
    said = await chat.say("/post Sandbags at Pier 3 until 6pm.")
    assert "Draft 2 created" in said
    assert "Post draft 2" in said
    assert "Something went wrong" not in said
    assert "Traceback" not in said
    assert "could not be recorded" in said
    assert "`/social approve 2`" in said

    published = await chat.say("/as bob", "/social approve 2")
    draft = await chat.service.core.workflow.get(2)
    assert draft.state is DraftState.PUBLISHED
    assert f"Draft 2: Published: {draft.published_url}" in published
