"""The Slack app manifest an admin pastes must match what the bot actually serves."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from adapters.chat.slack.integration import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from adapters.chat.slack.listeners import EVENTS, SLASH_COMMANDS

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


# Slack's published manifest schema (github.com/slackapi/manifest-schema, v0.5.0) is on no
# package registry, and what is fetched from a repository is not committed here: it is read
# from shared/ beside the checkout (where CI lays it) or from CHATOPS_SLACK_MANIFEST_SCHEMA.
SCHEMAS = Path(
    os.environ.get(
        "CHATOPS_SLACK_MANIFEST_SCHEMA",
        Path(__file__).resolve().parents[2] / "shared" / "schemas" / "slack-manifest",
    )
)
SCHEMA_URL = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"
needs_schema = pytest.mark.skipif(
    not (SCHEMAS / "manifest.schema.json").is_file(),
    reason=f"Slack's manifest schema (slackapi/manifest-schema v0.5.0) is not in {SCHEMAS}",
)


def manifest_validator() -> Draft7Validator:
    """Slack's published manifest schema, with its versioned parts served from the copies."""
    registry: Registry[Any] = Registry()
    for version in ("1.0.0", "2.0.0"):
        name = f"manifest.schema.{version}.json"
        contents = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        registry = registry.with_resource(
            SCHEMA_URL + name, Resource.from_contents(contents, default_specification=DRAFT7)
        )
    main = json.loads((SCHEMAS / "manifest.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(main, registry=registry)


@needs_schema
def test_manifest_matches_slacks_published_schema() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in manifest_validator().iter_errors(manifest)
    ]
    assert errors == []


@needs_schema
def test_the_schema_refuses_what_slack_refuses() -> None:
    """Not vacuous: a command without a slash, a 33-character command, an unknown key."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    validator = manifest_validator()
    for broken in (
        {"command": "post", "description": "no slash"},
        {"command": "/" + "x" * 32, "description": "too long"},
        {"command": "/post", "description": "unknown key", "colour": "blue"},
    ):
        manifest["features"]["slash_commands"] = [broken]
        assert not validator.is_valid(manifest), broken
