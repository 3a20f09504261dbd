"""Channel digests: the quiet summary of what a channel did not get as instant alerts.

Each subscribed channel gets one hourly, or daily at a set local time
(`/alerts digest daily 08:00`): the volume, whether the tone is turning negative,
the top mentions, the questions still unanswered, what a digest-only rule kept for it,
and the alerts the per-minute cap still holds (they are not consumed by the digest: they
follow as alerts as the cap allows). A digest with nothing in it is not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog

from chatops.chat.cards import Card, CardField
from chatops.chat.notify import Notifier
from chatops.domain.types import ChannelRef
from chatops.runtime.clock import Clock
from chatops.storage.database import Database
from chatops.storage.held import HeldStore
from chatops.storage.reports import AlertWithMention, ReportStore
from chatops.storage.tables import AlertRow, ChannelSettingsRow, MentionRow

log = structlog.get_logger(__name__)

TOP = 5
HELD_SHOWN = 10
PREVIEW = 90


@dataclass(frozen=True)
class DigestContent:
    period: timedelta
    alerts: list[AlertWithMention]
    previous: list[AlertWithMention]
    unanswered: list[AlertWithMention]
    held: list[AlertWithMention]
    waiting: list[AlertWithMention] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.alerts or self.unanswered or self.held or self.waiting)


def is_due(settings: ChannelSettingsRow, now: datetime, zone: ZoneInfo) -> bool:
    last = settings.last_digest_at
    if last is None:
        return True
    if settings.digest == "daily":
        hour, minute = (int(part) for part in settings.digest_at.split(":"))
        local = now.astimezone(zone)
        today = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
        return now >= today > last
    return now - last >= timedelta(hours=1)


def digest_card(channel: ChannelRef, content: DigestContent, *, daily: bool) -> Card:
    volume = len(content.alerts)
    negative = _negative_share(content.alerts)
    before = _negative_share(content.previous)
    trend = f"{negative:.0%} negative"
    if content.previous:
        trend += f" (was {before:.0%})"
    fields = [
        CardField("Volume", f"{volume} mention(s) for this channel"),
        CardField("Tone", trend),
    ]
    top = sorted(content.alerts, key=lambda pair: -pair[1].score)[:TOP]
    if top:
        fields.append(CardField("Top mentions", "\n".join(_line(a, m) for a, m in top)))
    if content.unanswered:
        fields.append(
            CardField(
                "Unanswered questions",
                "\n".join(_line(a, m, assignee=True) for a, m in content.unanswered),
            )
        )
    if content.held:
        fields.append(CardField("Held for this digest", _lines(content.held)))
    if content.waiting:
        fields.append(
            CardField("Held by the per-minute cap (they follow as alerts)", _lines(content.waiting))
        )
    title = "Daily digest" if daily else "Hourly digest"
    body = (
        f"{volume} mention(s), {len(content.unanswered)} unanswered question(s), "
        f"{len(content.held)} held for this digest"
    )
    if content.waiting:
        body += f", {len(content.waiting)} still held by the per-minute cap (`/alerts held`)"
    return Card(kind="digest", subject_id=0, title=title, body=body + ".", fields=tuple(fields))


def _lines(alerts: list[AlertWithMention]) -> str:
    lines = [_line(a, m) for a, m in alerts[:HELD_SHOWN]]
    if len(alerts) > HELD_SHOWN:
        lines.append(f"…and {len(alerts) - HELD_SHOWN} more")
    return "\n".join(lines)


class Digests:
    def __init__(self, *, db: Database, clock: Clock, notifier: Notifier, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.zone = zone

    async def run_due(self) -> int:
        """Send every digest that is due on the platforms this process serves."""
        now = self.clock.now()
        sent = 0
        async with self.db.transaction() as session:
            channels = await ReportStore(session).subscribed_channels()
        for channel in channels:
            if channel.platform in self.notifier.chats and await self._send_if_due(channel, now):
                sent += 1
        return sent

    async def _send_if_due(self, channel: ChannelRef, now: datetime) -> bool:
        async with self.db.transaction() as session:
            reports = ReportStore(session)
            settings = await reports.settings_of(channel, now=now)
            if not is_due(settings, now, self.zone):
                return False
            since = settings.last_digest_at or now - timedelta(hours=1)
            period = now - since
            content = DigestContent(
                period=period,
                alerts=await reports.alerts_between(channel, since, now),
                previous=await reports.alerts_between(channel, since - period, since),
                unanswered=await reports.open_questions(channel),
                held=await reports.awaiting_digest(channel),
                waiting=await HeldStore(session).held(channel),
            )
            settings.last_digest_at = now
            for alert, _ in content.held:
                alert.digested_at = now
        if content.empty:
            return False
        card = digest_card(channel, content, daily=settings.digest == "daily")
        try:
            await self.notifier.chats[channel.platform].post_card(channel, card)
        except Exception:
            log.exception("digest_failed", channel=channel.channel_id)
            return False
        return True


def _negative_share(alerts: list[AlertWithMention]) -> float:
    if not alerts:
        return 0.0
    return sum(1 for _, mention in alerts if mention.sentiment == "negative") / len(alerts)


def _line(alert: AlertRow, mention: MentionRow, *, assignee: bool = False) -> str:
    """One mention as one line: its line breaks become spaces, so a list stays a list."""
    flat = " ".join(mention.text.split())
    text = flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"
    line = f"@{mention.author_handle} ({mention.score}): {text} {mention.url}"
    if assignee:
        line += f" (assigned to {alert.assignee})" if alert.assignee else " (nobody assigned)"
    return line
