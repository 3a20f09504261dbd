"""A console conversation: lines in, replies and cards out, one acting user at a time.

Lines beginning with `/` are commands (`/post`, `/reply`, `/social`, `/alerts`), plus the
console's own `/as NAME`, `/react ID REACTION` and `/unreact ID REACTION`. After every
line the session lets due background work run (publication, alert delivery), so a
transcript reads in the order things happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TextIO

from adapters.chat.console.chat import CHANNEL, PLATFORM, ConsoleChat
from adapters.chat.console.render import render_card, render_reply
from chatops.chat.interaction import Invocation, Reply, clean_text
from chatops.chat.reactions import reaction_name
from chatops.domain.errors import ChatOpsError, OutdatedCard
from chatops.domain.types import Actor
from commands import CommandContext, CommandRegistry
from commands.cards import show_draft_card
from commands.parsing import UNSEEN_REVISION, parse_id, take_word
from commands.social import approve_by_reaction, show_current

REACT_EXAMPLE = "/react 3 white_check_mark"


def user_name(typed: str) -> str:
    """The acting user's name as typed for `/as` or `--user` (an `@` is optional); "" when
    nothing of a name is left, which both refuse."""
    return clean_text(typed.strip().lstrip("@")).strip()


class ConsoleSession:
    def __init__(
        self,
        *,
        context: CommandContext,
        registry: CommandRegistry,
        chat: ConsoleChat,
        user: str,
        out: TextIO,
        drain: Callable[[], Awaitable[None]],
    ) -> None:
        self.context = context
        self.registry = registry
        self.chat = chat
        self.user = user
        self.out = out
        self.drain = drain
        self.lock = asyncio.Lock()

    @property
    def actor(self) -> Actor:
        return Actor(PLATFORM, self.user, self.user, CHANNEL.channel_id, CHANNEL.workspace_id)

    async def handle(self, line: str) -> bool:
        """Handle one line; False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        async with self.lock:
            if not line.startswith("/"):
                self._say(Reply("Commands start with /. Try `/social help`, or `/post TEXT`."))
                return True
            word, rest = take_word(line[1:])
            command = word.lower()
            if command in ("quit", "exit"):
                return False
            if command == "as":
                self._switch_user(rest)
            elif command in ("react", "unreact"):
                await self._react(rest, added=command == "react")
            elif command == "help":
                await self._dispatch("social", "help")
            else:
                await self._dispatch(command, rest)
            await self.drain()
        return True

    async def background(self) -> None:
        """Run background work between lines without interleaving with a command's output."""
        async with self.lock:
            await self.drain()

    def _switch_user(self, rest: str) -> None:
        name, _ = take_word(rest)
        user = user_name(name)
        if not user:
            self._say(Reply("`/as` needs a name.", lines=("Example: `/as bob`",)))
            return
        self.user = user
        self._say(Reply(f"You are now {self.user}."))

    async def _react(self, rest: str, *, added: bool) -> None:
        word, rest = take_word(rest)
        reaction, _ = take_word(rest)
        try:
            if not word or not reaction:
                raise ChatOpsError(
                    "`/react` needs a draft id and a reaction.", hint=f"Example: `{REACT_EXAMPLE}`"
                )
            draft_id = parse_id(word, "The draft id", f"`{REACT_EXAMPLE}`")
            invocation = Invocation(self.actor, CHANNEL, "react", rest)
            replies = await approve_by_reaction(
                self.context,
                invocation,
                draft_id,
                reaction,
                added=added,
                seen_revision=await self._seen(draft_id),
                card=self.chat.draft_card(draft_id),
            )
        except OutdatedCard as outdated:
            replies = await self._outdated(outdated)
        except ChatOpsError as error:
            replies = [Reply(str(error))]
        if not replies:
            names = ", ".join(self.context.core.approval_reactions)
            replies = [
                Reply(f"Reacted with :{reaction_name(reaction)}:. (Approval reactions: {names}.)")
            ]
        for reply in replies:
            self._say(reply)

    async def _outdated(self, outdated: OutdatedCard) -> list[Reply]:
        """The current card for a refused reaction: printed as the draft's card (so the next
        `/react` reacts to it) when none was printed in this session, else with the reply."""
        if self.chat.draft_card(outdated.draft.id) is not None:
            return show_current(self.context, outdated)
        await show_draft_card(self.context, CHANNEL, outdated.draft)
        return [Reply(str(outdated))]

    async def _seen(self, draft_id: int) -> int:
        """The revision the draft's newest card here displays; none printed in this session
        means the person has seen no card of it (the refusal then prints the current one)."""
        ref = self.chat.draft_card(draft_id)
        shown = await self.context.core.workflow.shown_on(ref) if ref is not None else None
        if shown is None or shown[0] != draft_id:
            return UNSEEN_REVISION
        return shown[1]

    async def _dispatch(self, command: str, text: str) -> None:
        invocation = Invocation(self.actor, CHANNEL, command, text)
        for reply in await self.registry.dispatch(self.context, invocation):
            self._say(reply)

    def _say(self, reply: Reply) -> None:
        self.chat.write(render_reply(reply) + "\n")
        if reply.card is not None:
            self.chat.write(render_card(reply.card, reaction=self.chat.reaction) + "\n")
