"""The sandbox network: "publishes" into the local database and replays the demo feed.

It behaves like a real network where it matters to the core: posts get ids and stable
links, a repeated idempotency key returns the post already made, and mentions arrive in
pages behind a cursor. Demo mentions are stamped with the moment they are revealed, so
the console shows them arriving live; the file keeps its own timestamps for replays.
A feed played to its end can be played again (`replay_cursor`): each new round gives its
mentions fresh ids (`sbx-0001-r2`), as new posts on a real network would have, so they are
stored and relayed again rather than recognised as already seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.social.sandbox.feed import CITY_ACCOUNTS, NETWORK, post_url
from chatops.domain.accounts import Account, AccountHealth
from chatops.domain.types import Mention
from chatops.networks import Connection
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.runtime.clock import Clock
from chatops.storage.database import Database
from chatops.storage.tables import SandboxPostRow


class SandboxNetwork:
    network = NETWORK
    kind = "x"
    label = "Sandbox"

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        feed: Sequence[Mention] = (),
        accounts: Sequence[str] = CITY_ACCOUNTS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.feed = list(feed)
        self.accounts = tuple(accounts)

    async def start(self) -> None:
        """Nothing to connect to: the sandbox lives in the local database."""

    async def close(self) -> None:
        """Nothing to disconnect."""

    def health(self) -> Sequence[AccountHealth]:
        """Always able: the sandbox needs no credential."""
        return [
            AccountHealth(
                Account(network=self.network, handle=h, kind=self.kind, label=self.label),
                can_read=True,
                can_publish=True,
            )
            for h in self.accounts
        ]

    async def publish(self, request: PublishRequest) -> PublishedPost:
        existing = await self.find_published(request)
        if existing is not None:
            return existing
        try:
            async with self.db.transaction() as session:
                row = SandboxPostRow(
                    account=request.account,
                    text=request.text,
                    in_reply_to=request.reply_to_id,
                    media=[{"url": m.url, "alt_text": m.alt_text} for m in request.media],
                    idempotency_key=request.idempotency_key,
                    created_at=self.clock.now(),
                )
                session.add(row)
                await session.flush()
                return self._post(row)
        except IntegrityError:
            # A concurrent attempt with the same key won; its post is the one.
            found = await self.find_published(request)
            if found is None:
                raise
            return found

    async def find_published(self, request: PublishRequest) -> PublishedPost | None:
        async with self.db.transaction() as session:
            row = await session.scalar(
                select(SandboxPostRow).where(
                    SandboxPostRow.idempotency_key == request.idempotency_key
                )
            )
        return None if row is None else self._post(row)

    async def posts(self) -> list[tuple[PublishedPost, str]]:
        """Everything published, oldest first, with its text (for tests and demos)."""
        async with self.db.transaction() as session:
            rows = await session.scalars(select(SandboxPostRow).order_by(SandboxPostRow.id))
            return [(self._post(row), row.text) for row in rows]

    async def fetch_mentions(self, cursor: str | None, *, limit: int) -> MentionBatch:
        round_, start = _position(cursor)
        page = self.feed[start : start + limit]
        if not page:
            return MentionBatch(mentions=(), cursor=cursor)
        now = self.clock.now()
        return MentionBatch(
            mentions=[_in_round(replace(mention, created_at=now), round_) for mention in page],
            cursor=_cursor(round_, start + len(page)),
        )

    def replay_cursor(self, cursor: str | None) -> str | None:
        """The cursor that plays the feed again from its start, in a new round, once
        `cursor` has reached its end; None while some of it is still to come."""
        round_, start = _position(cursor)
        if cursor is None or not self.feed or start < len(self.feed):
            return None
        return _cursor(round_ + 1, 0)

    async def search(self, query: str, cursor: str | None, *, limit: int) -> MentionBatch:
        """The demo feed is replayed as mentions; the sandbox has no separate search."""
        return MentionBatch(mentions=(), cursor=cursor)

    async def lookup_mention(self, reference: str) -> Mention | None:
        for mention in self.feed:
            if reference in (mention.external_id, mention.url):
                return mention
        return None

    def _post(self, row: SandboxPostRow) -> PublishedPost:
        external_id = f"sbp-{row.id}"
        return PublishedPost(external_id=external_id, url=post_url(row.account, external_id))


def sandbox_connections(*, db: Database, clock: Clock, feed: Sequence[Mention]) -> list[Connection]:
    """The sandbox's networks, for `make run` and the tests: nothing leaves the machine."""
    return [Connection(SandboxNetwork(db=db, clock=clock, feed=feed))]


def _position(cursor: str | None) -> tuple[int, int]:
    """(round, index) of a cursor: `"40"` is index 40 of the first round, `"2:40"` of the
    second (the first round's cursors are as they always were)."""
    if not cursor:
        return 1, 0
    round_, _, index = cursor.rpartition(":")
    return int(round_ or 1), int(index)


def _cursor(round_: int, index: int) -> str:
    return str(index) if round_ == 1 else f"{round_}:{index}"


def _in_round(mention: Mention, round_: int) -> Mention:
    """The mention as posted again in a later round: its id, link and references renewed."""
    if round_ == 1:
        return mention

    def renewed(post_id: str | None) -> str | None:
        return None if post_id is None else f"{post_id}-r{round_}"

    external_id = f"{mention.external_id}-r{round_}"
    return replace(
        mention,
        external_id=external_id,
        url=post_url(mention.author.handle, external_id),
        refers_to=renewed(mention.refers_to),
        in_reply_to=renewed(mention.in_reply_to),
    )
