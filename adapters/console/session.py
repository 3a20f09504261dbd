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

from adapters.console.chat import CHANNEL, PLATFORM, ConsoleChat
from adapters.console.render import render_reply
from chatops.domain.errors import ChatOpsError
from chatops.domain.types import Actor
from chatops.interaction import Invocation, Reply, clean_text
from commands import CommandContext, CommandRegistry
from commands.parsing import parse_id, take_word
from commands.social import approve_by_reaction

REACT_EXAMPLE = "/react 3 white_check_mark"


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
        if not name:
            self._say(Reply("`/as` needs a name.", lines=("Example: `/as bob`",)))
            return
        self.user = clean_text(name.lstrip("@"))
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
                self.context, invocation, draft_id, reaction, added=added
            )
        except ChatOpsError as error:
            replies = [Reply(str(error))]
        if not replies:
            names = ", ".join(self.context.core.approval_reactions)
            replies = [
                Reply(f"Reacted with :{reaction.strip(':')}:. (Approval reactions: {names}.)")
            ]
        for reply in replies:
            self._say(reply)

    async def _dispatch(self, command: str, text: str) -> None:
        invocation = Invocation(self.actor, CHANNEL, command, text)
        for reply in await self.registry.dispatch(self.context, invocation):
            self._say(reply)

    def _say(self, reply: Reply) -> None:
        self.chat.write(render_reply(reply) + "\n")
