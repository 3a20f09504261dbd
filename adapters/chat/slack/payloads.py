"""Pure translation from Slack payloads to the core's types."""

from __future__ import annotations

from typing import Any

from adapters.chat.slack.chat import PLATFORM
from chatops.domain.types import Actor, ChannelRef, MessageRef


def team_of(body: dict[str, Any]) -> str:
    """The workspace a payload came from, wherever this payload type keeps it."""
    if body.get("team_id"):
        return str(body["team_id"])
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    for authorization in body.get("authorizations") or []:
        if authorization.get("team_id"):
            return str(authorization["team_id"])
    return ""


def actor_of(body: dict[str, Any]) -> Actor:
    """Who acted, and where: commands carry `user_id`, interactions a `user` object."""
    channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    team = team_of(body)
    if body.get("user_id"):
        name = str(body.get("user_name") or "")
        return Actor(PLATFORM, str(body["user_id"]), name, channel, team)
    user = body.get("user") or {}
    name = user.get("username") or user.get("name") or ""
    return Actor(PLATFORM, str(user.get("id", "")), str(name), channel, team)


def command_channel(body: dict[str, Any]) -> ChannelRef:
    return ChannelRef(PLATFORM, str(body.get("channel_id", "")), team_of(body))


def interaction_channel(body: dict[str, Any]) -> ChannelRef:
    channel = body.get("channel") or {}
    return ChannelRef(PLATFORM, str(channel.get("id", "")), team_of(body))


def reacted_message(event: dict[str, Any], team_id: str) -> MessageRef | None:
    """The message a reaction is on, or None for reactions on files and the like."""
    item = event.get("item")
    if (
        not isinstance(item, dict)
        or item.get("type") != "message"
        or not item.get("channel")
        or not item.get("ts")
    ):
        return None
    return MessageRef(ChannelRef(PLATFORM, str(item["channel"]), team_id), str(item["ts"]))


def reaction_name(event: dict[str, Any]) -> str:
    """The reaction as Slack names it (`+1::skin-tone-3`); the core normalizes it."""
    return str(event.get("reaction", ""))


def modal_value(view: dict[str, Any], block: str, action: str) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(block) or {}).get(action) or {}).get("value") or "").strip()
