"""Pollers: fetch new mentions and saved-search results and feed them to the pipeline.

Each poller resumes from the cursor stored with the last batch it ingested, so a
restart or an outage neither misses nor repeats a mention. A poller whose credential
is refused stops and tells the admins which setting to check; the others go on.

Mentions polled from an account's timeline are that account's; a search hit is addressed
to the agency's account it names, if any. The adapter says so where it can; what it left
blank is filled here from the text, so a reply goes from the account that was addressed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import replace

import structlog

from chatops.chat.notify import Notifier
from chatops.domain.errors import CredentialRejected
from chatops.domain.types import Mention, Subscription
from chatops.listening import rules
from chatops.listening.monitoring import IngestResult, MentionPipeline
from chatops.ports import MentionBatch, SocialPort
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore

log = structlog.get_logger(__name__)

NOTHING = IngestResult(received=0, stored=0, alerts=0)
SEARCH_QUERY_LIMIT = 512
_HANDLE = re.compile(r"(?<![\w@])@(\w{1,30})")


class MentionPoller:
    def __init__(
        self,
        *,
        db: Database,
        social: SocialPort,
        pipeline: MentionPipeline,
        source: str,
        batch_size: int,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.social = social
        self.pipeline = pipeline
        self.source = source
        self.batch_size = batch_size
        self.notifier = notifier
        self.stopped: str | None = None

    async def poll_once(self) -> IngestResult:
        if self.stopped:
            return NOTHING
        cursor = await _cursor(self.db, self.source)
        try:
            batch = await self.social.fetch_mentions(cursor, limit=self.batch_size)
        except CredentialRejected as error:
            await self._stop(error)
            return NOTHING
        own = self.social.accounts
        # One account's mentions timeline is all addressed to it, whatever the text says.
        batch = _addressed(batch, lambda: own, default=own[0] if len(own) == 1 else "")
        return await _ingest(self.pipeline, self.source, cursor, batch)

    async def _stop(self, error: CredentialRejected) -> None:
        self.stopped = str(error)
        log.error("poller_stopped", source=self.source, credential=error.credential)
        if self.notifier is not None:
            await self.notifier.warn_all_admins(
                f"Listening for {self.source} stopped: {error.credential} was refused "
                f"({error.detail}). Check {error.credential} and restart the worker."
            )


class SearchPollers:
    """One saved search per distinct query, each with its own cursor.

    Every search costs a request against the network's quota, so channels whose rules ask
    the same search share it: its results go through the pipeline once, and routing hands
    each matching mention to every subscription whose rule it meets, as for any mention.
    One instance serves a whole network, however many of its accounts are connected (a
    search finds the same posts whichever account asks); `accounts` are that network's
    handles, to say which one each hit is addressed to."""

    def __init__(
        self,
        *,
        db: Database,
        social: SocialPort,
        pipeline: MentionPipeline,
        notifier: Notifier,
        batch_size: int,
        accounts: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.db = db
        self.social = social
        self.pipeline = pipeline
        self.notifier = notifier
        self.batch_size = batch_size
        self.accounts = accounts or (lambda: social.accounts)
        self.source = f"{social.network}:searches"
        self.stopped: str | None = None

    async def poll_once(self) -> IngestResult:
        if self.stopped:
            return NOTHING
        async with self.db.transaction() as session:
            subscriptions = await MentionStore(session).subscriptions()
        totals = NOTHING
        queries = dict.fromkeys(query for s in subscriptions if (query := search_query(s)))
        for query in queries:
            source = search_source(self.social.network, query)
            cursor = await _cursor(self.db, source)
            try:
                batch = await self.social.search(query, cursor, limit=self.batch_size)
            except CredentialRejected as error:
                self.stopped = str(error)
                log.error("search_stopped", source=self.source, credential=error.credential)
                await self.notifier.warn_all_admins(
                    f"Saved searches ({self.source}) stopped: {error.credential} was refused "
                    f"({error.detail}). "
                    f"Check {error.credential} and restart the worker."
                )
                return totals
            batch = _addressed(batch, self.accounts)
            result = await _ingest(self.pipeline, source, cursor, batch)
            totals = IngestResult(
                totals.received + result.received,
                totals.stored + result.stored,
                totals.alerts + result.alerts,
            )
        return totals


def search_query(subscription: Subscription) -> str:
    """The subscription's rule as the network's search (empty when it cannot search)."""
    try:
        return rules.search_query(rules.parse_rule(subscription.rule), SEARCH_QUERY_LIMIT)
    except rules.RuleError:
        return ""


def search_source(network: str, query: str) -> str:
    """The cursor's key: the query itself, hashed to fit the key column whatever its length."""
    return f"{network}:search:{hashlib.sha256(query.encode()).hexdigest()[:32]}"


def addressed_account(text: str, handles: Collection[str]) -> str:
    """The first of `handles` the text names as `@handle` (any case), spelled as the
    agency spells it; "" when it names none."""
    spelled = {handle.lower(): handle for handle in handles}
    for match in _HANDLE.finditer(text):
        found = spelled.get(match.group(1).lower())
        if found is not None:
            return found
    return ""


def _addressed(
    batch: MentionBatch, handles: Callable[[], Collection[str]], *, default: str = ""
) -> MentionBatch:
    """The batch with each mention the adapter left unaddressed given its account."""
    if all(mention.account for mention in batch.mentions):
        return batch
    known = handles()
    return replace(batch, mentions=[_address(m, known, default) for m in batch.mentions])


def _address(mention: Mention, handles: Collection[str], default: str) -> Mention:
    if mention.account:
        return mention
    return replace(mention, account=addressed_account(mention.text, handles) or default)


async def _cursor(db: Database, source: str) -> str | None:
    async with db.transaction() as session:
        return await MentionStore(session).cursor(source)


async def _ingest(
    pipeline: MentionPipeline, source: str, cursor: str | None, batch: MentionBatch
) -> IngestResult:
    if batch.cursor is None or batch.cursor == cursor:
        return NOTHING
    return await pipeline.ingest(batch.mentions, cursor=(source, batch.cursor))
