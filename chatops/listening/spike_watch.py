"""Early warning: posts one spike alert when a subscription's (or all) volume jumps.

The statistics are in `chatops.listening.spikes`; this job feeds it the last 13 hours of each
subscription's alerts and of all mentions, keeps each spike's state in the database so
a spike alerts once (across restarts and replicas), and builds the card: volume, the
baseline, the top terms and three representative mentions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from chatops.chat.cards import Card, CardField
from chatops.chat.notify import Notifier
from chatops.domain.types import ChannelRef
from chatops.listening.spikes import SpikeSettings, SpikeState, Verdict, assess, step
from chatops.runtime.clock import Clock
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore
from chatops.storage.reports import ReportStore
from chatops.storage.tables import MentionRow

log = structlog.get_logger(__name__)

_WORD = re.compile(r"[^\W\d_][\w'-]{3,}", re.UNICODE)
STOPWORDS = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "have",
        "your",
        "about",
        "there",
        "their",
        "what",
        "when",
        "where",
        "will",
        "just",
        "been",
        "they",
        "them",
        "were",
        "would",
        "could",
        "should",
        "than",
        "then",
        "into",
        "over",
        "also",
        "still",
        "please",
        "thanks",
        "thank",
        "para",
        "como",
        "esta",
        "este",
        "pero",
        "porque",
    ]
)


def top_terms(texts: Sequence[str], count: int = 5) -> list[str]:
    words: Counter[str] = Counter()
    for text in texts:
        cleaned = re.sub(r"https?://\S+|@\w+", " ", text.lower())
        words.update(w for w in _WORD.findall(cleaned) if w not in STOPWORDS)
    return [word for word, _ in words.most_common(count)]


def spike_card(what: str, verdict: Verdict, mentions: Sequence[MentionRow]) -> Card:
    examples = "\n".join(
        f"@{m.author_handle} ({m.score}): {m.text[:100]} {m.url}" for m in mentions[:3]
    )
    return Card(
        kind="spike",
        subject_id=0,
        title=f"Spike: {what}",
        body=f"{verdict.volume} mentions in the last hour, against about "
        f"{verdict.baseline:.1f} an hour over the 12 hours before.",
        fields=(
            CardField("Top terms", ", ".join(top_terms([m.text for m in mentions])) or "none"),
            CardField("Examples", examples or "none"),
        ),
        footer="One alert per spike; the next comes after this one subsides.",
    )


class SpikeWatch:
    def __init__(
        self, *, db: Database, clock: Clock, notifier: Notifier, settings: SpikeSettings
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.settings = settings

    async def run_once(self) -> int:
        now = self.clock.now()
        window = now - timedelta(hours=self.settings.baseline_hours + 1)
        posts: list[tuple[ChannelRef, Card]] = []
        async with self.db.transaction() as session:
            reports = ReportStore(session)
            subscriptions = await MentionStore(session).subscriptions()
            for subscription in subscriptions:
                times = await reports.alert_times(subscription.id, window)
                card = await self._check(
                    reports,
                    f"sub:{subscription.id}",
                    times,
                    now,
                    subscription.id,
                    f'"{subscription.rule}"',
                )
                if card is not None:
                    posts.append((subscription.channel, card))
            card = await self._check(
                reports, "all", await reports.mention_times(window), now, None, "all mentions"
            )
            if card is not None:
                posts += [(channel, card) for channel in await reports.subscribed_channels()]
        for channel, card in posts:
            chat = self.notifier.chats.get(channel.platform)
            if chat is None:
                continue
            try:
                await chat.post_card(channel, card)
            except Exception:
                log.exception("spike_alert_failed", channel=channel.channel_id)
        return len(posts)

    async def _check(
        self,
        reports: ReportStore,
        key: str,
        times: Sequence[datetime],
        now: datetime,
        subscription_id: int | None,
        what: str,
    ) -> Card | None:
        verdict = assess(times, now, self.settings)
        row = await reports.spike_state(key, now=now)
        state, alert = step(SpikeState(row.active, row.started_at), verdict, now, self.settings)
        row.active, row.started_at, row.updated_at = state.active, state.started_at, now
        if not alert:
            return None
        log.warning("spike_started", key=key, volume=verdict.volume, baseline=verdict.baseline)
        mentions = await reports.recent_mentions(now - timedelta(hours=1), subscription_id)
        return spike_card(what, verdict, mentions)
