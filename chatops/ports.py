"""The two ports the core talks through: chat platforms and social networks.

Adapters implement these; the core never learns which SDK is behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatops.chat.cards import Card
from chatops.domain.accounts import AccountHealth
from chatops.domain.types import ChannelRef, MediaItem, Mention, MessageRef


class ChatPort(Protocol):
    """A chat platform the bot can post into and update cards on."""

    platform: str

    async def post_card(self, channel: ChannelRef, card: Card) -> MessageRef: ...

    async def update_card(self, ref: MessageRef, card: Card) -> None: ...

    async def post_message(
        self, channel: ChannelRef, text: str, *, thread: MessageRef | None = None
    ) -> MessageRef: ...

    async def warn_admins(self, workspace_id: str, text: str) -> None:
        """Tell the platform's admins about something they must fix (a lost channel)."""
        ...


@dataclass(frozen=True)
class PublishRequest:
    """One publication, with a key that stays the same across retries of it."""

    idempotency_key: str
    account: str
    text: str
    reply_to_id: str | None = None
    media: tuple[MediaItem, ...] = ()
    not_before: datetime | None = None
    """When the publication was first queued: no post older than that can be this one."""


@dataclass(frozen=True)
class PublishedPost:
    external_id: str
    url: str


@dataclass(frozen=True)
class MentionBatch:
    mentions: Sequence[Mention]
    cursor: str | None


class SocialPort(Protocol):
    """A social network the agency listens on and publishes to."""

    network: str
    """The network's name in this agency's configuration: `x`, `sandbox-mastodon`."""
    kind: str
    """Whose text and media rules it follows: `x`, `mastodon` or `bluesky`."""
    label: str

    @property
    def accounts(self) -> Sequence[str]:
        """Handles the agency may post from through this port."""
        ...

    async def start(self) -> None:
        """Connect and learn the account's identity, before listening or publishing."""
        ...

    async def close(self) -> None: ...

    def health(self) -> Sequence[AccountHealth]:
        """Whether each of its accounts can read and publish, and what is wrong if not,
        naming settings, never their values (for `/social accounts` and `doctor`)."""
        ...

    async def publish(self, request: PublishRequest) -> PublishedPost: ...

    async def find_published(self, request: PublishRequest) -> PublishedPost | None:
        """The post an earlier, possibly interrupted, attempt made, if it exists."""
        ...

    async def fetch_mentions(self, cursor: str | None, *, limit: int) -> MentionBatch: ...

    async def search(self, query: str, cursor: str | None, *, limit: int) -> MentionBatch:
        """Recent public posts matching `query` (the network's search syntax) after `cursor`."""
        ...

    async def lookup_mention(self, reference: str) -> Mention | None:
        """A mention by the network's id or its URL, for `/reply`."""
        ...
