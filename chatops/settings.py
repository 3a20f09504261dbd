"""Every setting the bot reads, in one place, read once by the composition root.

Nothing else in the project reads the environment: tests build a `Settings` with the
values they need, and production reads environment variables or a `.env` file.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///chatops.db"

CommaList = Annotated[tuple[str, ...], NoDecode]


def _split_commas(value: object) -> object:
    """Accept `a,b , c` from the environment as well as a real sequence from code."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """The settings table of DESIGN.md; unset secrets switch their integration off."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    port: int = Field(default=8080, validation_alias="PORT")
    timezone: str = Field(default="UTC", validation_alias="CHATOPS_TIMEZONE")
    admins: CommaList = Field(default=(), validation_alias="CHATOPS_ADMINS")
    approvers: CommaList = Field(default=(), validation_alias="CHATOPS_APPROVERS")
    workspaces: CommaList = Field(default=(), validation_alias="CHATOPS_WORKSPACES")
    """Slack team ids and Teams tenant ids that may install and use the bot; empty: any."""
    approval_reactions: CommaList = Field(
        default=("white_check_mark", "heavy_check_mark", "+1"),
        validation_alias="CHATOPS_APPROVAL_REACTIONS",
    )
    required_approvals: int = Field(default=1, ge=1, validation_alias="CHATOPS_REQUIRED_APPROVALS")
    sandbox: bool = Field(default=False, validation_alias="CHATOPS_SANDBOX")
    sandbox_account: str = Field(
        default="PortAlderCity", validation_alias="CHATOPS_SANDBOX_ACCOUNT"
    )
    log_level: str = Field(default="INFO", validation_alias="CHATOPS_LOG_LEVEL")
    score_weights: dict[str, float] = Field(
        default_factory=dict, validation_alias="CHATOPS_SCORE_WEIGHTS"
    )
    alerts_per_minute: int = Field(default=10, ge=1, validation_alias="CHATOPS_ALERTS_PER_MINUTE")
    response_target_hours: float = Field(
        default=2.0, gt=0, validation_alias="CHATOPS_RESPONSE_TARGET_HOURS"
    )
    business_hours: str = Field(
        default="09:00-17:00 mon-fri", validation_alias="CHATOPS_BUSINESS_HOURS"
    )
    link_allowlist: CommaList = Field(default=(), validation_alias="CHATOPS_LINK_ALLOWLIST")
    phone_regions: CommaList = Field(default=("US",), validation_alias="CHATOPS_PHONE_REGIONS")
    spike_alpha: float = Field(default=0.001, gt=0, lt=1, validation_alias="CHATOPS_SPIKE_ALPHA")
    spike_min_volume: int = Field(default=10, ge=1, validation_alias="CHATOPS_SPIKE_MIN_VOLUME")
    worker_interval_seconds: float = Field(
        default=1.0, gt=0, validation_alias="CHATOPS_WORKER_INTERVAL"
    )
    publish_lease_seconds: int = Field(default=120, ge=5, validation_alias="CHATOPS_PUBLISH_LEASE")
    publish_max_attempts: int = Field(default=5, ge=1, validation_alias="CHATOPS_PUBLISH_ATTEMPTS")

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_CLIENT_SECRET"
    )
    slack_api_base_url: str = Field(
        default="https://slack.com/api/", validation_alias="SLACK_API_BASE_URL"
    )

    teams_enabled: bool = Field(default=False, validation_alias="TEAMS_ENABLED")
    # Teams with no app id accepts unauthenticated activities: only on explicit request, and
    # then `serve` listens on loopback only (local development, the Bot Framework Emulator).
    teams_allow_anonymous: bool = Field(default=False, validation_alias="TEAMS_ALLOW_ANONYMOUS")
    teams_app_id: str | None = Field(default=None, validation_alias="TEAMS_APP_ID")
    teams_app_password: SecretStr | None = Field(
        default=None, validation_alias="TEAMS_APP_PASSWORD"
    )
    teams_tenant_id: str | None = Field(default=None, validation_alias="TEAMS_TENANT_ID")
    teams_approval_reactions: CommaList = Field(
        default=("like", "checkmark", "2705_whiteheavycheckmark"),
        validation_alias="TEAMS_APPROVAL_REACTIONS",
    )

    x_bearer_token: SecretStr | None = Field(default=None, validation_alias="X_BEARER_TOKEN")
    x_api_key: SecretStr | None = Field(default=None, validation_alias="X_API_KEY")
    x_api_secret: SecretStr | None = Field(default=None, validation_alias="X_API_SECRET")
    x_access_token: SecretStr | None = Field(default=None, validation_alias="X_ACCESS_TOKEN")
    x_access_token_secret: SecretStr | None = Field(
        default=None, validation_alias="X_ACCESS_TOKEN_SECRET"
    )
    x_api_base_url: str = Field(
        default="https://api.twitter.com", validation_alias="X_API_BASE_URL"
    )
    x_poll_seconds: float = Field(default=30.0, gt=0, validation_alias="X_POLL_SECONDS")
    x_timeout_seconds: float = Field(default=20.0, gt=0, validation_alias="X_TIMEOUT_SECONDS")

    _split = field_validator(
        "admins",
        "approvers",
        "workspaces",
        "approval_reactions",
        "teams_approval_reactions",
        "link_allowlist",
        "phone_regions",
        mode="before",
    )(_split_commas)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"CHATOPS_TIMEZONE={value!r} is not an IANA time zone; "
                "use a name such as America/Chicago or Europe/Paris"
            ) from error
        return value

    @field_validator("approval_reactions")
    @classmethod
    def _bare_reaction_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name.strip(":") for name in value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def x_configured(self) -> bool:
        return self.x_bearer_token is not None

    @property
    def uses_sandbox(self) -> bool:
        """The sandbox network is used unless X is configured and not overridden."""
        return self.sandbox or not self.x_configured

    @property
    def teams_anonymous(self) -> bool:
        """Teams without an identity, as asked for: no app id, TEAMS_ALLOW_ANONYMOUS=true."""
        return self.teams_enabled and not self.teams_app_id and self.teams_allow_anonymous

    @property
    def serve_host(self) -> str:
        """Where `serve` listens: everywhere, except on loopback when Teams is anonymous."""
        return "127.0.0.1" if self.teams_anonymous else "0.0.0.0"

    def teams_identity_problem(self) -> str | None:
        """Why Teams cannot be served safely with these settings, or None.

        Teams switched on without an app id would take unauthenticated activities from anyone
        who can reach the port; that is only allowed as an explicit local-development opt-in.
        """
        if self.teams_enabled and not self.teams_app_id and not self.teams_allow_anonymous:
            return (
                "TEAMS_ENABLED=true without TEAMS_APP_ID would accept unauthenticated Teams "
                "requests: set TEAMS_APP_ID and TEAMS_APP_PASSWORD (the bot's identity), or "
                "TEAMS_ALLOW_ANONYMOUS=true for local development (serve then listens on "
                "127.0.0.1 only)"
            )
        return None

    def secret_values(self) -> list[str]:
        """Every configured secret, so log output can be scrubbed of them."""
        values: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        password = _password_in_url(self.database_url)
        if password:
            values.append(password)
        return values

    def database_url_for_display(self) -> str:
        """The database URL with any password masked, for logs and `doctor`."""
        password = _password_in_url(self.database_url)
        if not password:
            return self.database_url
        return self.database_url.replace(f":{password}@", ":***@", 1)


def _password_in_url(url: str) -> str | None:
    scheme_end = url.find("://")
    at = url.rfind("@")
    if scheme_end < 0 or at < 0:
        return None
    credentials = url[scheme_end + 3 : at]
    if ":" not in credentials:
        return None
    return credentials.split(":", 1)[1] or None
