"""Settings from the environment, and logs that carry context and never a secret."""

from __future__ import annotations

import io
import json

import pytest
import structlog
from pydantic import ValidationError

from chatops.runtime.logs import bind_command_context, bind_draft, configure_logging
from chatops.runtime.settings import Settings


def test_settings_read_the_design_table_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATOPS_APPROVERS", "U1, U2,")
    monkeypatch.setenv("CHATOPS_APPROVAL_REACTIONS", ":white_check_mark:,+1")
    monkeypatch.setenv("CHATOPS_REQUIRED_APPROVALS", "2")
    monkeypatch.setenv("CHATOPS_TIMEZONE", "America/Chicago")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://app:hunter22@db/chatops")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.approvers == ("U1", "U2")
    assert settings.approval_reactions == ("white_check_mark", "+1")
    assert settings.required_approvals == 2
    assert settings.zone.key == "America/Chicago"
    assert "xoxb-secret-value" not in repr(settings)
    assert set(settings.secret_values()) == {"xoxb-secret-value", "hunter22"}
    assert settings.database_url_for_display() == "postgresql+asyncpg://app:***@db/chatops"
    assert settings.uses_sandbox


def test_defaults_match_the_design() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///chatops.db"
    assert settings.timezone == "UTC"
    assert settings.approval_reactions == ("white_check_mark", "heavy_check_mark", "+1")
    assert settings.required_approvals == 1
    assert settings.x_poll_seconds == 30
    assert settings.slack_api_base_url == "https://slack.com/api/"
    assert settings.x_api_base_url == "https://api.twitter.com"


def test_a_bad_time_zone_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOPS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_log_lines_are_json_with_command_context_and_no_secrets() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", secrets=["s3cr3t-token"], stream=stream)
    log = structlog.get_logger("test")
    with bind_command_context(platform="slack", user="U1", command="/post"):
        bind_draft(12)
        log.info("created", detail="token s3cr3t-token leaked?", nested={"k": ["s3cr3t-token"]})
    log.info("after")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["platform"] == "slack"
    assert first["user"] == "U1"
    assert first["command"] == "/post"
    assert first["draft_id"] == 12
    assert "s3cr3t-token" not in stream.getvalue()
    assert first["detail"] == "token [redacted] leaked?"
    assert "draft_id" not in second
    assert "command" not in second
