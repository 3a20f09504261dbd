"""The registry of networks and their accounts: where a draft can go, and who hears it.

The core never holds one network: it holds this registry, built once by the composition
root from the ports the settings configure (X accounts, the sandbox's three networks,
and the networks to come), and asks it which port publishes for an account, which
accounts a `--to` names, and what a network is called.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from chatops.domain.accounts import Account, AccountHealth, target_key
from chatops.domain.errors import InvalidInput
from chatops.ports import SocialPort

ALL = "all"


@dataclass(frozen=True)
class Connection:
    """A port and what the agency's settings say of the accounts it serves."""

    port: SocialPort
    required_approvals: int | None = None
    default: bool = False


class Networks:
    """Every configured port, and the accounts they serve, in the settings' order."""

    def __init__(
        self, connections: Sequence[Connection], *, unavailable: Sequence[AccountHealth] = ()
    ) -> None:
        self.connections = tuple(connections)
        self.unavailable = tuple(unavailable)
        """Accounts configured where no port serves them (a network with no adapter yet):
        reported by `health`, never a target."""

    @property
    def ports(self) -> tuple[SocialPort, ...]:
        return tuple(c.port for c in self.connections)

    def accounts(self) -> list[Account]:
        """Every account known now (an X account's handle is known once it has started)."""
        found: list[Account] = []
        for connection in self.connections:
            port = connection.port
            for handle in port.accounts:
                found.append(
                    Account(
                        network=port.network,
                        handle=handle,
                        kind=port.kind,
                        label=port.label,
                        required_approvals=connection.required_approvals,
                        default=connection.default,
                    )
                )
        return found

    def one_account(self, handle: str) -> tuple[Account, ...]:
        """`--account @handle`: one account, on the default account's network when the
        handle is on several."""
        found = self.resolve(handle if handle.startswith("@") else f"@{handle}")
        home = self.default_account().network
        return next(((a,) for a in found if a.network == home), found[:1])

    def health(self) -> list[AccountHealth]:
        """Each account's health as its port sees it, with the settings' approvals, in the
        settings' order; the account drafts go to unless told (flagged or first) is marked
        default."""
        accounts = self.accounts()
        home = next((a for a in accounts if a.default), accounts[0] if accounts else None)
        found: list[AccountHealth] = []
        for connection in self.connections:
            for health in connection.port.health():
                account = replace(
                    health.account,
                    required_approvals=connection.required_approvals,
                    default=home is not None and health.account.key == home.key,
                )
                found.append(replace(health, account=account))
        return found + list(self.unavailable)

    def default_account(self) -> Account:
        """The account flagged default, else the first: where a draft goes unless told."""
        accounts = self.accounts()
        if not accounts:
            raise InvalidInput(
                "I am not connected to any account yet.",
                hint="An admin can run `chatops doctor` to see which credential is missing.",
            )
        return next((a for a in accounts if a.default), accounts[0])

    def account(self, network: str, handle: str) -> Account | None:
        wanted = target_key(network, handle.lstrip("@")).lower()
        return next((a for a in self.accounts() if a.key.lower() == wanted), None)

    def port_for(self, network: str, handle: str) -> SocialPort:
        """The port that publishes as this account; LookupError if none does (any more)."""
        for port in self.ports:
            if port.network == network and any(h.lower() == handle.lower() for h in port.accounts):
                return port
        raise LookupError(target_key(network, handle))

    def network_port(self, network: str) -> SocialPort | None:
        """A port of this network, to look a post up by its id or link."""
        return next((p for p in self.ports if p.network == network), None)

    def networks(self) -> list[str]:
        return list(dict.fromkeys(p.network for p in self.ports))

    def label(self, network: str) -> str:
        port = self.network_port(network)
        return network if port is None else port.label

    def kind(self, network: str) -> str:
        port = self.network_port(network)
        return "x" if port is None else port.kind

    def resolve(self, spec: str) -> tuple[Account, ...]:
        """The accounts a `--to` names, in the order named, each once.

        Names, separated by commas or spaces: `all`; a network by its name or kind
        (`sandbox-mastodon`, `mastodon`); an account on one network (`x:@PortAlderPD`); or
        a handle alone (`@PortAlderCity`): that account on every network the agency has
        it on, as a city with one name everywhere means it. Anything unknown is refused,
        naming the choices, and the card lists every target before anyone approves: a
        government account never publishes somewhere nobody saw."""
        accounts = self.accounts()
        chosen: dict[str, Account] = {}
        names = [n for n in spec.replace(",", " ").split() if n]
        if not names:
            raise InvalidInput("No targets were named.", hint=_targets_hint(accounts))
        for name in names:
            for account in _matching(name, accounts):
                chosen.setdefault(account.key, account)
        return tuple(chosen.values())


def _matching(name: str, accounts: Sequence[Account]) -> list[Account]:
    lowered = name.lower()
    if lowered == ALL:
        return list(accounts)
    network, colon, handle = lowered.rpartition(":")
    if not colon:
        network, handle = "", lowered
    if handle.startswith("@"):
        found = [
            a
            for a in accounts
            if a.handle.lower() == handle[1:] and (not network or network in _names(a))
        ]
        if not found:
            raise InvalidInput(
                f"{name} is not an account I can post from.", hint=_targets_hint(accounts)
            )
        return found
    if network:
        raise InvalidInput(f"{name} is not a target I know.", hint=_targets_hint(accounts))
    found = [a for a in accounts if lowered in _names(a)]
    if not found:
        raise InvalidInput(f"{name} is not a target I know.", hint=_targets_hint(accounts))
    return found


def _names(account: Account) -> Iterable[str]:
    """What a network may be called in a `--to`: its name or its kind."""
    return (account.network.lower(), account.kind.lower())


def _targets_hint(accounts: Sequence[Account]) -> str:
    if not accounts:
        return "No account is connected yet; an admin can run `chatops doctor`."
    networks = ", ".join(dict.fromkeys(a.network for a in accounts))
    listed = ", ".join(a.key for a in accounts)
    return (
        f"Targets: `all`, a network ({networks}) or an account ({listed}). See `/social accounts`."
    )
