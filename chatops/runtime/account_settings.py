"""CHATOPS_ACCOUNTS: the agency's social accounts, each with credentials named by a prefix.

The list itself holds no secret: `{"network": "x", "handle": "PortAlderPD", "credentials":
"X_PD"}` says that the account's secrets are in the settings X_PD_BEARER_TOKEN,
X_PD_API_KEY and so on, set like every other setting (environment or `.env`). A
settings source collects exactly those variables, so a secret is never written into
the JSON, and nothing outside the settings reads the environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from chatops.domain.accounts import NETWORK_KINDS, Account, AccountHealth

SETTING = "CHATOPS_ACCOUNTS"
LEGACY_PREFIX = "X"
"""Today's single-account X settings (X_BEARER_TOKEN, ...) are the credentials `X`."""

EXAMPLE = (
    '[{"network": "x", "handle": "PortAlderPD", "credentials": "X_PD", '
    '"required_approvals": 2, "default": false}]'
)


@dataclass(frozen=True)
class Credential:
    suffix: str
    secret: bool
    purpose: str
    """What it is needed for: "read" or "publish" (or "connect" for both)."""


CREDENTIALS: dict[str, tuple[Credential, ...]] = {
    "x": (
        Credential("BEARER_TOKEN", True, "read"),
        Credential("API_KEY", True, "publish"),
        Credential("API_SECRET", True, "publish"),
        Credential("ACCESS_TOKEN", True, "publish"),
        Credential("ACCESS_TOKEN_SECRET", True, "publish"),
    ),
    "mastodon": (
        Credential("ACCESS_TOKEN", True, "connect"),
        Credential("BASE_URL", False, "connect"),
    ),
    "bluesky": (
        Credential("APP_PASSWORD", True, "connect"),
        Credential("SERVICE_URL", False, "connect"),
    ),
}
"""Each network's variables, by suffix after the account's prefix: X_PD + _BEARER_TOKEN."""

ADAPTED = frozenset({"x"})
"""The networks with an adapter; Mastodon's and Bluesky's come in the next issues."""
LABELS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}

_KEYS = frozenset({"network", "handle", "credentials", "required_approvals", "default"})
_PREFIX = re.compile(r"[A-Z][A-Z0-9_]*")
_HANDLE = re.compile(r"[^\s,:@][^\s,:]*")


@dataclass(frozen=True)
class AccountSpec:
    """One account as the settings configure it."""

    network: str
    credentials: str
    handle: str | None = None
    """None: learned from the network (only X, from the credentials' own account)."""
    required_approvals: int | None = None
    default: bool = False

    @property
    def name(self) -> str:
        """How errors and `doctor` name it: `x:@PortAlderPD`, or `x (X_PD)` before its
        handle is known."""
        if self.handle:
            return f"{self.network}:@{self.handle}"
        return f"{self.network} ({self.credentials})"

    def variable(self, suffix: str) -> str:
        return f"{self.credentials}_{suffix}"

    def variables(self, purpose: str | None = None) -> list[str]:
        """The setting names of its credentials (those needed for `purpose`, if given)."""
        return [
            self.variable(c.suffix)
            for c in CREDENTIALS[self.network]
            if purpose is None or c.purpose == purpose
        ]


def credential_names(accounts: object) -> set[str]:
    """The variables a raw CHATOPS_ACCOUNTS value names; nothing if it cannot be read
    (the field's validator then says why)."""
    try:
        specs = parse_accounts(accounts)
    except ValueError:
        return set()
    return {name for spec in specs for name in spec.variables()}


def parse_accounts(value: object) -> tuple[AccountSpec, ...]:
    """The accounts of a CHATOPS_ACCOUNTS value (JSON text, or a list from code)."""
    if isinstance(value, tuple) and all(isinstance(v, AccountSpec) for v in value):
        return value
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{SETTING} is not JSON ({error.msg} at character {error.pos}); "
                f"use a list such as {EXAMPLE}"
            ) from error
    if not isinstance(value, list | tuple):
        raise ValueError(f"{SETTING} must be a JSON list of accounts, such as {EXAMPLE}")
    return tuple(_spec(number, item) for number, item in enumerate(value, start=1))


def _spec(number: int, item: object) -> AccountSpec:
    if isinstance(item, AccountSpec):
        return item
    where = f"{SETTING}: account {number}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} is not an object; use e.g. {EXAMPLE}")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise ValueError(
            f"{where} has unknown key {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(sorted(_KEYS))}"
        )
    network = item.get("network")
    if network not in NETWORK_KINDS:
        raise ValueError(
            f"{where}: network {network!r} is not one I know; use {', '.join(NETWORK_KINDS)}"
        )
    handle = _handle(where, item.get("handle"), network)
    credentials = item.get("credentials")
    if not isinstance(credentials, str) or not _PREFIX.fullmatch(credentials.upper()):
        raise ValueError(
            f'{where}: credentials must name the prefix of its settings, such as "X_PD" '
            f"for X_PD_BEARER_TOKEN and the others, got {credentials!r}"
        )
    approvals = item.get("required_approvals")
    if approvals is not None and (
        isinstance(approvals, bool) or not isinstance(approvals, int) or approvals < 1
    ):
        raise ValueError(f"{where}: required_approvals must be a whole number of at least 1")
    default = item.get("default", False)
    if not isinstance(default, bool):
        raise ValueError(f"{where}: default must be true or false")
    return AccountSpec(
        network=network,
        credentials=credentials.upper(),
        handle=handle,
        required_approvals=approvals,
        default=default,
    )


def _handle(where: str, handle: object, network: str) -> str | None:
    if handle is None and network == "x":
        return None  # learned from GET /2/users/me
    if not isinstance(handle, str) or not _HANDLE.fullmatch(handle.removeprefix("@")):
        raise ValueError(f'{where}: handle must be the account\'s handle, e.g. "PortAlderPD"')
    return handle.removeprefix("@")


def check_accounts(
    specs: tuple[AccountSpec, ...], credentials: Mapping[str, object]
) -> tuple[AccountSpec, ...]:
    """Refuse what would go wrong later and less clearly: two defaults, an account twice,
    a prefix none of whose settings is set (a typo in it, most likely)."""
    defaults = [spec.name for spec in specs if spec.default]
    if len(defaults) > 1:
        raise ValueError(
            f"{SETTING}: {' and '.join(defaults)} are both marked default; mark one only"
        )
    seen: set[str] = set()
    for spec in specs:
        if spec.handle is None:
            continue
        key = f"{spec.network}:{spec.handle.lower()}"
        if key in seen:
            raise ValueError(f"{SETTING}: {spec.name} is listed twice; list each account once")
        seen.add(key)
    for spec in specs:
        names = spec.variables()
        if not any(credentials.get(name) is not None for name in names):
            raise ValueError(
                f"{SETTING}: {spec.name} takes its credentials from {spec.credentials}_*, "
                f"but none of {', '.join(names)} is set; set them in the environment or .env"
            )
        keys = spec.variables("publish")
        if spec.handle is None and not all(credentials.get(name) is not None for name in keys):
            raise ValueError(
                f"{SETTING}: {spec.name} has no handle, and without all of {', '.join(keys)} "
                'X cannot tell which account it is; add its "handle"'
            )
    return specs


def unadapted(specs: tuple[AccountSpec, ...]) -> list[AccountHealth]:
    """The accounts configured on a network that has no adapter yet: listed, so nobody
    wonders where they went, but neither read nor published."""
    return [
        AccountHealth(
            Account(
                network=spec.network,
                handle=spec.handle or "",
                kind=spec.network,
                label=LABELS[spec.network],
                required_approvals=spec.required_approvals,
                default=spec.default,
            ),
            can_read=False,
            can_publish=False,
            problem=f"no {LABELS[spec.network]} adapter yet",
        )
        for spec in specs
        if spec.network not in ADAPTED
    ]


class NamedCredentials(PydanticBaseSettingsSource):
    """The variables CHATOPS_ACCOUNTS names, from the environment or `.env`, with the same
    precedence as every other setting (environment over `.env`)."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        *,
        init: Mapping[str, Any],
        env: Mapping[str, str | None],
        dotenv: Mapping[str, str | None],
        field: str,
    ) -> None:
        super().__init__(settings_cls)
        self.init, self.env, self.dotenv, self.field = init, env, dotenv, field

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: every value comes from `__call__`."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        raw = self.init.get(SETTING, self.init.get("accounts"))
        if raw is None:
            raw = self.env.get(SETTING.lower(), self.dotenv.get(SETTING.lower()))
        found: dict[str, str] = {}
        for name in sorted(credential_names(raw)):
            value = self.env.get(name.lower())
            if value is None:
                value = self.dotenv.get(name.lower())
            if value is not None and value != "":
                found[name] = value
        return {self.field: found} if found else {}
