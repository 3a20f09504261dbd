"""Every setting the bot reads, in one place, read once by the composition root.

Nothing else in the project reads the environment: tests build a `Settings` with the
values they need, and production reads environment variables or a `.env` file.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated
from urllib.parse import quote, unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from chatops.chat.reactions import reaction_names
from chatops.drafts.image_sources import ImageSources
from chatops.drafts.public_contacts import CONTACTS_EXAMPLE, parse_contact
from chatops.listening.business_hours import BusinessHours
from chatops.listening.scoring import ScoreWeights
from chatops.runtime.account_settings import (
    CREDENTIALS,
    LEGACY_PREFIX,
    AccountSpec,
    NamedCredentials,
    check_accounts,
    parse_accounts,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///chatops.db"

_WEIGHTS_EXAMPLE = '{"urgent": 40, "reach": 15}'

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
    port: int = Field(default=8080, ge=1, le=65535, validation_alias="PORT")
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
    # Each subscription may cost a network search at every poll; anyone in a channel may add
    # one, so a channel's count is capped.
    subscriptions_per_channel: int = Field(
        default=20, ge=1, validation_alias="CHATOPS_SUBSCRIPTIONS_PER_CHANNEL"
    )
    sandbox: bool = Field(default=False, validation_alias="CHATOPS_SANDBOX")
    sandbox_account: str = Field(
        default="PortAlderCity", validation_alias="CHATOPS_SANDBOX_ACCOUNT"
    )
    log_level: str = Field(default="INFO", validation_alias="CHATOPS_LOG_LEVEL")
    score_weights: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict, validation_alias="CHATOPS_SCORE_WEIGHTS"
    )
    alerts_per_minute: int = Field(default=10, ge=1, validation_alias="CHATOPS_ALERTS_PER_MINUTE")
    # A mention this notable goes out at once whatever the per-minute cap: being told late
    # about an emergency costs more than one alert over the cap.
    alert_urgent_score: int = Field(
        default=70, ge=0, le=100, validation_alias="CHATOPS_ALERT_URGENT_SCORE"
    )
    response_target_hours: float = Field(
        default=2.0, gt=0, validation_alias="CHATOPS_RESPONSE_TARGET_HOURS"
    )
    business_hours: str = Field(
        default="09:00-17:00 mon-fri", validation_alias="CHATOPS_BUSINESS_HOURS"
    )
    link_allowlist: CommaList = Field(default=(), validation_alias="CHATOPS_LINK_ALLOWLIST")
    phone_regions: CommaList = Field(default=("US",), validation_alias="CHATOPS_PHONE_REGIONS")
    # The agency's own phone numbers, email addresses and domains: never personal data on a
    # draft. After phone_regions, which its numbers are read in.
    public_contacts: CommaList = Field(default=(), validation_alias="CHATOPS_PUBLIC_CONTACTS")
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
    # Sites draft images may be fetched from (and their subdomains); empty: any public site.
    image_hosts: CommaList = Field(default=(), validation_alias="CHATOPS_IMAGE_HOSTS")
    # Non-public networks images may also come from, e.g. an intranet image server (CIDR list);
    # empty: public addresses only, so a draft cannot make the worker fetch internal pages.
    image_private_networks: CommaList = Field(
        default=(), validation_alias="CHATOPS_IMAGE_PRIVATE_NETWORKS"
    )
    x_poll_seconds: float = Field(default=30.0, gt=0, validation_alias="X_POLL_SECONDS")
    x_timeout_seconds: float = Field(default=20.0, gt=0, validation_alias="X_TIMEOUT_SECONDS")
    # The secrets CHATOPS_ACCOUNTS names (X_PD_BEARER_TOKEN, ...), collected by
    # `NamedCredentials` from the environment or .env; tests may pass them here by name.
    account_credentials: dict[str, SecretStr] = Field(
        default_factory=dict, validation_alias="CHATOPS_ACCOUNT_CREDENTIALS"
    )
    # Last, so its validator sees the credentials (and the single-account X settings).
    accounts: Annotated[tuple[AccountSpec, ...], NoDecode] = Field(
        default=(), validation_alias="CHATOPS_ACCOUNTS"
    )

    _split = field_validator(
        "admins",
        "approvers",
        "workspaces",
        "approval_reactions",
        "teams_approval_reactions",
        "link_allowlist",
        "phone_regions",
        "public_contacts",
        "image_hosts",
        "image_private_networks",
        mode="before",
    )(_split_commas)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources, plus the variables CHATOPS_ACCOUNTS names, read from the
        environment and .env as the others are (between them and the secrets files)."""
        assert isinstance(init_settings, InitSettingsSource)
        assert isinstance(env_settings, EnvSettingsSource)
        assert isinstance(dotenv_settings, DotEnvSettingsSource)
        named = NamedCredentials(
            settings_cls,
            init=init_settings.init_kwargs,
            env=env_settings.env_vars,
            dotenv=dotenv_settings.env_vars,
            field="account_credentials",
        )
        return init_settings, env_settings, dotenv_settings, named, file_secret_settings

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts_json(cls, value: object) -> object:
        """Read the JSON here, so a mistake in it is named like any other bad setting."""
        return parse_accounts(value)

    @field_validator("accounts")
    @classmethod
    def _usable_accounts(
        cls, value: tuple[AccountSpec, ...], info: ValidationInfo
    ) -> tuple[AccountSpec, ...]:
        named: dict[str, object] = dict(info.data.get("account_credentials") or {})
        named.update(_legacy_credentials(info.data))
        return check_accounts(value, named)

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

    @field_validator("score_weights", mode="before")
    @classmethod
    def _weights_json(cls, value: object) -> object:
        """Read the JSON here, so bad JSON is named like any other bad setting."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as error:
            raise ValueError(
                f"CHATOPS_SCORE_WEIGHTS={value!r} is not JSON; "
                f"use an object such as {_WEIGHTS_EXAMPLE}"
            ) from error

    @field_validator("score_weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        """A misspelt weight would otherwise be ignored and its default used unnoticed."""
        known = ScoreWeights.__dataclass_fields__
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(
                f"CHATOPS_SCORE_WEIGHTS: unknown weight {', '.join(map(repr, unknown))}; "
                f"the weights are {', '.join(known)}, e.g. {_WEIGHTS_EXAMPLE}"
            )
        return value

    @field_validator("business_hours")
    @classmethod
    def _readable_hours(cls, value: str) -> str:
        """Parsed here too, so a bad value stops every command, `doctor` included, at once."""
        try:
            BusinessHours.parse(value)
        except ValueError as error:
            raise ValueError(f"CHATOPS_BUSINESS_HOURS: {error}") from error
        return value

    @field_validator("public_contacts")
    @classmethod
    def _readable_contacts(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """Read here, so a number that is not one stops every command, `doctor` included.
        Unknown phone regions are left to the compliance rules, which name them."""
        configured = info.data.get("phone_regions", ())
        regions = [r for r in configured if r in phonenumbers.SUPPORTED_REGIONS]
        for contact in value:
            try:
                parse_contact(contact, regions)
            except ValueError as error:
                raise ValueError(
                    f"CHATOPS_PUBLIC_CONTACTS: {error}; list the agency's public phone "
                    f"numbers, email addresses and domains, e.g. {CONTACTS_EXAMPLE!r}"
                ) from error
        return value

    @field_validator("image_private_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as error:
                raise ValueError(
                    f"CHATOPS_IMAGE_PRIVATE_NETWORKS: {network!r} is not a network; "
                    "use addresses or CIDR ranges such as 10.20.0.0/16"
                ) from error
        return value

    @property
    def image_sources(self) -> ImageSources:
        """Where draft images may be fetched from, as the adapters and commands check it."""
        networks = (ipaddress.ip_network(n, strict=False) for n in self.image_private_networks)
        return ImageSources(hosts=self.image_hosts, also_allowed=tuple(networks))

    @field_validator("approval_reactions", "teams_approval_reactions")
    @classmethod
    def _bare_reaction_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Compared with reactions normalized the same way (`:thumbsup:` is `+1`)."""
        return reaction_names(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def social_accounts(self) -> tuple[AccountSpec, ...]:
        """Every account configured: the single-account X settings' first (when
        X_BEARER_TOKEN is set and CHATOPS_ACCOUNTS does not list credentials "X"), so its
        poll cursor stays the one it was, then CHATOPS_ACCOUNTS in its order. The single
        one is the default unless another account is marked default."""
        listed = self.accounts
        # X_BEARER_TOKEN switches it on, as it always did.
        if self.x_bearer_token is None or any(spec.credentials == LEGACY_PREFIX for spec in listed):
            return listed
        legacy = AccountSpec(
            network="x",
            credentials=LEGACY_PREFIX,
            default=not any(spec.default for spec in listed),
        )
        return (legacy, *listed)

    def credential(self, spec: AccountSpec, suffix: str) -> SecretStr | None:
        """One of an account's credentials, by its suffix (`BEARER_TOKEN`)."""
        name = spec.variable(suffix)
        found = self.account_credentials.get(name)
        if found is None and spec.credentials == LEGACY_PREFIX:
            legacy = _legacy_credentials(dict(self)).get(name)
            return legacy if isinstance(legacy, SecretStr) else None
        return found

    @property
    def x_configured(self) -> bool:
        """Some X account is configured (by the single-account settings or CHATOPS_ACCOUNTS)."""
        return any(spec.network == "x" for spec in self.social_accounts)

    @property
    def uses_sandbox(self) -> bool:
        """The sandbox networks are used unless an account is configured and not overridden."""
        return self.sandbox or not self.social_accounts

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
        values += sorted(self._account_secret_values())
        values += sorted(_url_passwords(self.database_url))
        return values

    def _account_secret_values(self) -> set[str]:
        """The named credentials that are secrets (not a Mastodon account's base URL)."""
        secret = {c.suffix for table in CREDENTIALS.values() for c in table if c.secret}
        return {
            value.get_secret_value()
            for name, value in self.account_credentials.items()
            if value.get_secret_value() and any(name.endswith("_" + s) for s in secret)
        }

    def database_url_for_display(self) -> str:
        """The database URL with every password masked, for logs and `doctor`: the one after
        the user name and any given as a query parameter (`?password=`, `?sslpassword=`,
        which asyncpg and libpq accept too)."""
        return _masked_url(self.database_url)


_LEGACY_FIELDS = {
    "X_BEARER_TOKEN": "x_bearer_token",
    "X_API_KEY": "x_api_key",
    "X_API_SECRET": "x_api_secret",
    "X_ACCESS_TOKEN": "x_access_token",
    "X_ACCESS_TOKEN_SECRET": "x_access_token_secret",
}


def _legacy_credentials(values: dict[str, object]) -> dict[str, object]:
    """The single-account X settings, by the names an account with credentials "X" has."""
    return {name: values.get(field) for name, field in _LEGACY_FIELDS.items()}


_PASSWORD_PARAMETERS = frozenset({"password", "sslpassword"})


def _url_parts(url: str) -> tuple[str, str, str, list[str]]:
    """(what comes before the password, the password as written, what follows it up to the
    query, the query's fields), read from the text itself: a password with an unencoded
    `@` or `:` ends at the last `@` before the host, where parsers (SQLAlchemy's too) stop
    at the first and would take the rest for the host name."""
    head, _, query = url.partition("?")
    fields = query.split("&") if query else []
    user_start = head.find("://") + 3
    at = head.rfind("@")
    if user_start < 3 or at < user_start:
        return head, "", "", fields
    user, colon, password = head[user_start:at].partition(":")
    if not colon:
        return head, "", "", fields
    return head[:user_start] + user + ":", password, head[at:], fields


def _password_field(field: str) -> tuple[str, str] | None:
    name, equals, value = field.partition("=")
    if equals and unquote_plus(name).lower() in _PASSWORD_PARAMETERS:
        return name, value
    return None


def _url_passwords(url: str) -> set[str]:
    """Every password in the URL, as written, decoded and encoded (a library may log the
    URL either way), to scrub from logs."""
    decoded = _url_passwords_as_read(url)
    return decoded | {quote(password, safe="") for password in decoded}


def _url_passwords_as_read(url: str) -> set[str]:
    _, password, _, fields = _url_parts(url)
    written = [password] if password else []
    written += [found[1] for field in fields if (found := _password_field(field))]
    passwords = {form for value in written if value for form in (value, unquote_plus(value))}
    try:  # and as SQLAlchemy reads them, should it read them otherwise
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return passwords
    if parsed.password:
        passwords.add(str(parsed.password))
    for name, value in parsed.query.items():
        if name.lower() in _PASSWORD_PARAMETERS:
            passwords.update([value] if isinstance(value, str) else value)
    return passwords


def _masked_url(url: str) -> str:
    before, password, after, fields = _url_parts(url)
    shown = before + "***" + after if password else before + after
    masked = [f"{found[0]}=***" if (found := _password_field(field)) else field for field in fields]
    return shown + ("?" + "&".join(masked) if fields else "")
