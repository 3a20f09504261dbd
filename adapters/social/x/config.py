"""One X account's configuration: its handle when known, its secrets and their names.

Each account is its own `XNetwork` with its own clients, so nothing of one account's
credentials can reach another's requests. The settings' names travel with the secrets,
so every message says which setting to fix (X_PD_API_KEY), never its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from chatops.runtime.account_settings import AccountSpec
from chatops.runtime.settings import Settings

USER_CONTEXT_SUFFIXES = ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")


@dataclass(frozen=True)
class XAccountConfig:
    prefix: str
    """The settings' prefix: `X` for X_BEARER_TOKEN and the others, `X_PD` for X_PD_..."""
    handle: str | None = None
    """None: learned from GET /2/users/me (the single-account settings)."""
    bearer_token: SecretStr | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    base_url: str = "https://api.twitter.com"
    timeout: float = 20.0
    other_handles: frozenset[str] = field(default_factory=frozenset)
    """The other X accounts' handles (lowercase): rows this account must not take for its
    own when its handle is not configured."""

    @classmethod
    def from_settings(
        cls, settings: Settings, spec: AccountSpec, *, other_handles: frozenset[str] = frozenset()
    ) -> XAccountConfig:
        def secret(suffix: str) -> SecretStr | None:
            return settings.credential(spec, suffix)

        return cls(
            prefix=spec.credentials,
            handle=spec.handle,
            bearer_token=secret("BEARER_TOKEN"),
            api_key=secret("API_KEY"),
            api_secret=secret("API_SECRET"),
            access_token=secret("ACCESS_TOKEN"),
            access_token_secret=secret("ACCESS_TOKEN_SECRET"),
            base_url=settings.x_api_base_url,
            timeout=settings.x_timeout_seconds,
            other_handles=other_handles,
        )

    @property
    def bearer_name(self) -> str:
        return f"{self.prefix}_BEARER_TOKEN"

    @property
    def user_context_names(self) -> list[str]:
        return [f"{self.prefix}_{suffix}" for suffix in USER_CONTEXT_SUFFIXES]

    @property
    def user_context(self) -> str:
        """`X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET`."""
        *first, last = self.user_context_names
        return f"{', '.join(first)} and {last}"

    @property
    def user_secrets(self) -> tuple[SecretStr | None, ...]:
        return (self.api_key, self.api_secret, self.access_token, self.access_token_secret)

    @property
    def missing_user_context(self) -> list[str]:
        return [n for n, s in zip(self.user_context_names, self.user_secrets, strict=True) if not s]
