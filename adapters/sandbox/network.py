"""The sandbox network: "publishes" into the local database and replays the demo feed.

It behaves like a real network where it matters to the core: posts get ids and stable
links, a repeated idempotency key returns the post already made, and mentions arrive in
pages behind a cursor. Demo mentions are stamped with the moment they are revealed, so
the console shows them arriving live; the file keeps its own timestamps for replays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.sandbox.feed import CITY_ACCOUNTS, NETWORK, post_url
from chatops.clock import Clock
from chatops.domain.types import Mention
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.storage.database import Database
from chatops.storage.tables import SandboxPostRow


class SandboxNetwork:
    network = NETWORK
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
        start = int(cursor) if cursor else 0
        page = self.feed[start : start + limit]
        if not page:
            return MentionBatch(mentions=(), cursor=cursor)
        now = self.clock.now()
        return MentionBatch(
            mentions=[replace(mention, created_at=now) for mention in page],
            cursor=str(start + len(page)),
        )

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
