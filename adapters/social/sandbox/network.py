"""The sandbox networks: "publish" into the local database and replay the demo feed.

Each behaves like a real network where it matters to the core: posts get ids and stable
links that look like its kind's, a repeated idempotency key returns the post already made,
a post the real network would refuse (too long as it counts, too many images) is refused,
and mentions arrive in pages behind a cursor. Demo mentions are stamped with the moment they
are revealed, so the console shows them arriving live; the file keeps its own timestamps
for replays. A feed played to its end can be played again (`replay_cursor`): each new round
gives its mentions fresh ids (`sbx-0001-r2`), as new posts on a real network would have, so
they are stored and relayed again rather than recognised as already seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.social.sandbox.feed import CITY_ACCOUNTS
from adapters.social.sandbox.limits import Refusal, refusal_for, refuse_nothing
from adapters.social.sandbox.sites import SANDBOX_X, SITES, SandboxSite
from chatops.domain.accounts import Account, AccountHealth
from chatops.domain.errors import PublishError
from chatops.domain.types import Mention
from chatops.networks import Connection
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.runtime.clock import Clock
from chatops.storage.database import Database
from chatops.storage.tables import SandboxPostRow


class SandboxNetwork:
    """One sandbox network (`site`): the sandbox's X unless told, refusing what `refusal`
    says its real network would refuse (nothing unless told)."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        feed: Sequence[Mention] = (),
        accounts: Sequence[str] = CITY_ACCOUNTS,
        site: SandboxSite = SANDBOX_X,
        refusal: Refusal = refuse_nothing,
    ) -> None:
        self.db = db
        self.clock = clock
        self.feed = list(feed)
        self.accounts = tuple(accounts)
        self.site = site
        self.network = site.network
        self.kind = site.kind
        self.label = site.label
        self.refusal = refusal

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
        refused = self.refusal(request.text, request.media)
        if refused is not None:
            raise PublishError(f"{self.label} refused the post: {refused}", retryable=False)
        try:
            async with self.db.transaction() as session:
                row = SandboxPostRow(
                    network=self.network,
                    account=request.account,
                    text=request.text,
                    in_reply_to=request.reply_to_id,
                    media=[{"url": m.url, "alt_text": m.alt_text} for m in request.media],
                    idempotency_key=request.idempotency_key,
                    created_at=self.clock.now(),
                )
                session.add(row)
                await session.flush()
                return await self._post(session, row)
        except IntegrityError:
            # A concurrent attempt with the same key won; its post is the one.
            found = await self.find_published(request)
            if found is None:
                raise
            return found

    async def find_published(self, request: PublishRequest) -> PublishedPost | None:
        """The post made on this network with the request's key. Keys are unique in the
        table (the outbox makes one per draft, revision and target, so two networks never
        share one); looking by network too means a post on another sandbox network is
        never taken for this one's."""
        async with self.db.transaction() as session:
            row = await session.scalar(
                select(SandboxPostRow).where(
                    SandboxPostRow.network == self.network,
                    SandboxPostRow.idempotency_key == request.idempotency_key,
                )
            )
            return None if row is None else await self._post(session, row)

    async def posts(self) -> list[tuple[PublishedPost, str]]:
        """Everything published on this network, oldest first, with its text (for tests
        and demos)."""
        async with self.db.transaction() as session:
            rows = await session.scalars(
                select(SandboxPostRow)
                .where(SandboxPostRow.network == self.network)
                .order_by(SandboxPostRow.id)
            )
            return [(await self._post(session, row), row.text) for row in rows]

    async def fetch_mentions(self, cursor: str | None, *, limit: int) -> MentionBatch:
        round_, start = _position(cursor)
        page = self.feed[start : start + limit]
        if not page:
            return MentionBatch(mentions=(), cursor=cursor)
        now = self.clock.now()
        return MentionBatch(
            mentions=[
                _in_round(replace(mention, created_at=now), round_, self.site) for mention in page
            ],
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
        """A mention of this network's feed by its id or link (of the first round)."""
        for mention in self.feed:
            if reference in (mention.external_id, mention.url):
                return mention
        return None

    async def _post(self, session: AsyncSession, row: SandboxPostRow) -> PublishedPost:
        """The post as the network shows it: numbered in its own network (`sbmp-1` is the
        first post on the sandbox's Mastodon), as each real network numbers only its own,
        so a cross-post's links do not depend on which network answered first."""
        number = await session.scalar(
            select(func.count())
            .select_from(SandboxPostRow)
            .where(SandboxPostRow.network == self.network, SandboxPostRow.id <= row.id)
        )
        external_id = f"{self.site.post_prefix}-{number}"
        return PublishedPost(
            external_id=external_id, url=self.site.post_url(row.account, external_id)
        )


def sandbox_connections(
    *, db: Database, clock: Clock, feed: Sequence[Mention] = ()
) -> list[Connection]:
    """The sandbox's three networks (its X, Mastodon and Bluesky), each with the city's
    accounts, its own lines of `feed` and its kind's limits: for `make run` and the tests,
    nothing leaves the machine. The first network's accounts come first, so the default
    account stays `sandbox:@PortAlderCity`."""
    return [
        Connection(
            SandboxNetwork(
                db=db,
                clock=clock,
                feed=[mention for mention in feed if mention.network == site.network],
                site=site,
                refusal=refusal_for(site.kind),
            )
        )
        for site in SITES
    ]


def _position(cursor: str | None) -> tuple[int, int]:
    """(round, index) of a cursor: `"40"` is index 40 of the first round, `"2:40"` of the
    second (the first round's cursors are as they always were)."""
    if not cursor:
        return 1, 0
    round_, _, index = cursor.rpartition(":")
    return int(round_ or 1), int(index)


def _cursor(round_: int, index: int) -> str:
    return str(index) if round_ == 1 else f"{round_}:{index}"


def _in_round(mention: Mention, round_: int, site: SandboxSite) -> Mention:
    """The mention as posted again in a later round: its id, link and references renewed."""
    if round_ == 1:
        return mention

    def renewed(post_id: str | None) -> str | None:
        return None if post_id is None else f"{post_id}-r{round_}"

    external_id = f"{mention.external_id}-r{round_}"
    return replace(
        mention,
        external_id=external_id,
        url=site.post_url(mention.author.handle, external_id),
        refers_to=renewed(mention.refers_to),
        in_reply_to=renewed(mention.in_reply_to),
    )
