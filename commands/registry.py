"""The registry of verbs: one handler per verb, served on every chat platform."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

import structlog

from chatops.chat.interaction import Invocation, Reply, clean_text
from chatops.core import Core
from chatops.domain.errors import ChatOpsError
from chatops.ports import ChatPort
from chatops.runtime.logs import bind_command_context
from commands.parsing import take_word

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CommandContext:
    """What a handler may use: the core's use cases and the platform it was invoked on."""

    core: Core
    chat: ChatPort


Handler = Callable[[CommandContext, Invocation, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Verb:
    """`command` is the slash command; `name` the sub-verb (`approve`), or "" for `/post`."""

    command: str
    name: str
    usage: str
    summary: str
    example: str
    handler: Handler

    @property
    def title(self) -> str:
        return f"/{self.command} {self.name}".strip()


class CommandRegistry:
    def __init__(self, verbs: Sequence[Verb]) -> None:
        self.verbs = list(verbs)
        self._by_key = {(v.command, v.name): v for v in self.verbs}
        self.commands = sorted({v.command for v in self.verbs})

    def help_lines(self) -> list[str]:
        return [f"`{v.usage}`: {v.summary} e.g. `{v.example}`" for v in self.verbs]

    def usage_of(self, command: str) -> list[str]:
        return [f"`{v.usage}` e.g. `{v.example}`" for v in self.verbs if v.command == command]

    async def dispatch(self, ctx: CommandContext, invocation: Invocation) -> list[Reply]:
        """Run the verb; every refusal or failure becomes a reply, never an exception."""
        actor = invocation.actor
        actor = replace(
            actor, user_id=clean_text(actor.user_id), display_name=clean_text(actor.display_name)
        )
        if not actor.user_id.strip():
            return [Reply("I could not tell who sent this, so I did nothing.")]
        invocation = replace(invocation, actor=actor, text=clean_text(invocation.text))
        verb, args = self._resolve(invocation)
        name = verb.title if verb else f"/{invocation.command}"
        with bind_command_context(
            platform=invocation.actor.platform, user=invocation.actor.user_id, command=name
        ):
            if verb is None:
                return [self._unknown(invocation)]
            try:
                replies = await verb.handler(ctx, invocation, args)
                log.info("command_done")
                return replies
            except ChatOpsError as error:
                log.info("command_refused", reason=error.message)
                return [Reply(str(error))]
            except Exception:
                reference = uuid.uuid4().hex[:8]
                log.exception("command_crashed", reference=reference)
                return [
                    Reply(
                        f"Something went wrong on our side while running {name} "
                        f"(reference {reference}). Nothing was published; please try again "
                        "or tell your admin the reference."
                    )
                ]

    def _resolve(self, invocation: Invocation) -> tuple[Verb | None, str]:
        command = invocation.command.lstrip("/").lower()
        top = self._by_key.get((command, ""))
        if top is not None:
            return top, invocation.text
        word, rest = take_word(invocation.text)
        return self._by_key.get((command, word.lower())), rest

    def _unknown(self, invocation: Invocation) -> Reply:
        command = invocation.command.lstrip("/").lower()
        if command not in self.commands:
            known = ", ".join(f"/{c}" for c in self.commands)
            return Reply(
                f"I don't know /{command}.", lines=(f"Commands: {known}. Try `/social help`.",)
            )
        word, _ = take_word(invocation.text)
        opening = f"I don't know `/{command} {word}`." if word else f"`/{command}` needs a verb."
        return Reply(opening, lines=("Try one of:", *self.usage_of(command)))
