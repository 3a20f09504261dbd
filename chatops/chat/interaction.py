"""What a chat adapter hands the commands, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatops.chat.cards import Card
from chatops.domain.types import Actor, ChannelRef, Via


@dataclass(frozen=True)
class Invocation:
    """A command as typed on any platform.

    `/social approve 3` is command `social` with text `approve 3`.
    """

    actor: Actor
    channel: ChannelRef
    command: str
    text: str
    via: Via = Via.COMMAND


@dataclass(frozen=True)
class Reply:
    """A message for the person who acted; `ephemeral` where the platform allows it.

    `card`, when set, is shown with the message to that person only (where the platform
    allows it), e.g. a draft's current card when their approval was of an older revision.
    """

    text: str
    ephemeral: bool = True
    lines: tuple[str, ...] = field(default=())
    card: Card | None = None

    def render(self) -> str:
        return "\n".join([self.text, *self.lines]) if self.lines else self.text


_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")
_CONTROL[0x7F] = None


def clean_text(text: str) -> str:
    """Text as people meant it: control characters (NUL above all, which PostgreSQL
    cannot store) are dropped; tabs and line breaks stay."""
    return text.translate(_CONTROL)
