"""Which authenticated activities the bot takes: Teams only, and only the agency's tenant.

A valid Bot Framework token says the Bot Connector sent the activity, not that it came from
Teams or from the agency's own tenant: any channel the bot is registered on, and any tenant
that installs it, holds such tokens. The checks run before the turn, so a refused activity
changes nothing, stores no conversation reference and gets no reply at its serviceUrl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEAMS_CHANNEL = "msteams"


@dataclass(frozen=True)
class ActivityGate:
    """`channel` and `tenant` are what must match; None means "any" (anonymous local mode)."""

    channel: str | None = None
    tenant: str | None = None

    def refusal(self, activity: dict[str, Any]) -> str | None:
        """Why this activity is not for this bot, in words safe to answer with; or None."""
        if self.channel is not None and activity.get("channelId") != self.channel:
            return f"only activities from channel {self.channel!r} are accepted"
        if self.tenant is not None:
            tenants = _tenants_named(activity)
            if not tenants or any(t.lower() != self.tenant.lower() for t in tenants):
                return "the activity is not from this bot's tenant"
        return None


def _tenants_named(activity: dict[str, Any]) -> list[str]:
    """Every tenant id the activity names: Teams puts it in the conversation and channelData."""
    named: list[object] = []
    conversation = activity.get("conversation")
    if isinstance(conversation, dict):
        named.append(conversation.get("tenantId"))
    channel_data = activity.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    if isinstance(tenant, dict):
        named.append(tenant.get("id"))
    return [str(value) for value in named if value not in (None, "")]
