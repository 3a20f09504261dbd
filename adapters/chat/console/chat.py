"""The console as a `ChatPort`: cards and messages are printed; updates are printed again."""

from __future__ import annotations

import itertools
import uuid
from typing import TextIO

from adapters.chat.console.render import render_card
from adapters.chat.console.terminal import printable
from chatops.chat.cards import Card
from chatops.domain.types import ChannelRef, MessageRef

PLATFORM = "console"
CHANNEL = ChannelRef(platform=PLATFORM, channel_id="console")


class ConsoleChat:
    platform = PLATFORM

    def __init__(self, out: TextIO, *, reaction: str) -> None:
        self.out = out
        self.reaction = reaction
        # Message ids are unique across sessions on one database (cards are stored by id).
        self._session = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._draft_cards: dict[int, MessageRef] = {}
        # An interactive session's prompt while it is the last thing shown, and the prompt
        # that output arriving meanwhile (an alert) pushed up, to be shown again after it.
        self._prompt: str | None = None
        self._interrupted: str | None = None

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef:
        ref = MessageRef(channel, f"{self._session}.m{next(self._ids)}")
        self._print(render_card(card, reaction=self.reaction))
        if card.kind == "draft":
            self._draft_cards[card.subject_id] = ref
        return ref

    def draft_card(self, draft_id: int) -> MessageRef | None:
        """The newest card of a draft printed here: what `/react ID` reacts to."""
        return self._draft_cards.get(draft_id)

    async def update_card(self, ref: MessageRef, card: Card) -> None:
        self._print(render_card(card, reaction=self.reaction, note="(updated)"))

    async def post_message(
        self, channel: ChannelRef, text: str, *, thread: MessageRef | None = None
    ) -> MessageRef:
        ref = MessageRef(channel, f"{self._session}.m{next(self._ids)}")
        self._print(f"  ↳ {text}" if thread else text)
        return ref

    async def warn_admins(self, workspace_id: str, text: str) -> None:
        self._print(f"[admin] {text}")

    def write(self, text: str) -> None:
        """Everything the console shows passes here, so no outside text reaches the
        terminal with its escape sequences live."""
        if self._prompt is not None:
            # The person may be typing after the prompt: start below it.
            self._interrupted, self._prompt = self._prompt, None
            text = "\n" + text
        self.out.write(printable(text))
        self.out.flush()

    def show_prompt(self, prompt: str) -> None:
        """An interactive session's prompt: the last thing shown until the person enters a
        line or output arrives (then `restore_prompt` shows it again)."""
        self.write(prompt)
        self._prompt, self._interrupted = prompt, None

    def line_entered(self) -> None:
        """The person pressed Enter: the prompt line is theirs and finished."""
        self._prompt = self._interrupted = None

    def restore_prompt(self) -> None:
        """A fresh prompt after output that arrived while the person was typing, so they
        see they can go on (what they typed is still read when they press Enter)."""
        if self._interrupted is not None:
            self.show_prompt(self._interrupted)

    def _print(self, text: str) -> None:
        self.write(text + "\n")
