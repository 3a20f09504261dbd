"""The mention pipeline: store each mention once, match it to subscriptions, queue alerts.

Storing, routing and moving the poll cursor happen in one transaction, so a crash
either keeps all three or none, and the next poll repeats nothing and misses nothing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chatops.clock import Clock
from chatops.domain.errors import InvalidInput
from chatops.domain.types import Mention, StoredMention, Subscription
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore
from chatops.storage.tables import AlertRow

RULE_EXAMPLE = '`/alerts subscribe flood, "road closure", outage`'


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    alerts: int


def parse_keywords(rule: str) -> tuple[str, ...]:
    """Keywords and quoted phrases, separated by spaces or commas; any one of them matches."""
    try:
        tokens = shlex.split(rule.replace(",", " "))
    except ValueError as error:
        raise InvalidInput(
            f"The rule has an unclosed quote ({error}).", hint=f"Example: {RULE_EXAMPLE}."
        ) from None
    keywords = tuple(dict.fromkeys(t.strip().lower() for t in tokens if t.strip()))
    if not keywords:
        raise InvalidInput("The rule has no keywords.", hint=f"Example: {RULE_EXAMPLE}.")
    return keywords


def matched_keywords(keywords: Sequence[str], text: str) -> tuple[str, ...]:
    """The keywords found in `text` as whole words or phrases, case-insensitively."""
    lowered = text.lower()
    return tuple(k for k in keywords if _pattern(k).search(lowered))


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(keyword: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(keyword)
    if pattern is None:
        pattern = re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)")
        _PATTERNS[keyword] = pattern
    return pattern


class MentionPipeline:
    """`on_alerts` is told when new alerts are queued, so delivery need not wait a beat."""

    def __init__(
        self, *, db: Database, clock: Clock, on_alerts: Callable[[], None] = lambda: None
    ) -> None:
        self.db = db
        self.clock = clock
        self.on_alerts = on_alerts

    async def ingest(
        self, mentions: Sequence[Mention], *, cursor: tuple[str, str] | None = None
    ) -> IngestResult:
        now = self.clock.now()
        async with self.db.transaction() as session:
            store = MentionStore(session)
            stored = await store.insert_new(mentions, now=now)
            subscriptions = await store.subscriptions() if stored else []
            alerts = await store.add_alerts(
                [alert for mention in stored for alert in _route(mention, subscriptions, now)]
            )
            if cursor is not None:
                await store.save_cursor(cursor[0], cursor[1], now=now)
        if alerts:
            self.on_alerts()
        return IngestResult(received=len(mentions), stored=len(stored), alerts=alerts)


def _route(
    mention: StoredMention, subscriptions: Sequence[Subscription], now: object
) -> list[AlertRow]:
    rows = []
    for subscription in subscriptions:
        matched = matched_keywords(subscription.keywords, mention.mention.text)
        if not matched:
            continue
        channel = subscription.channel
        rows.append(
            AlertRow(
                subscription_id=subscription.id,
                mention_id=mention.id,
                platform=channel.platform,
                workspace_id=channel.workspace_id,
                channel_id=channel.channel_id,
                matched=list(matched),
                state="open",
                delivery="pending",
                created_at=now,
            )
        )
    return rows
