"""The Slack app manifest an admin pastes must match what the bot actually serves."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack.integration import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from adapters.slack.listeners import EVENTS, SLASH_COMMANDS

MANIFEST = Path(__file__).resolve().parents[1] / "slack" / "manifest.yml"


def test_manifest_declares_every_command_scope_event_and_url() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == set(SLASH_COMMANDS)
    assert all(c["url"].endswith(EVENTS_PATH) and c["should_escape"] for c in commands.values())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    assert all(u.endswith(REDIRECT_PATH) for u in manifest["oauth_config"]["redirect_urls"])
    assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENTS)
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"]["is_enabled"]
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert features["app_home"]["home_tab_enabled"]
