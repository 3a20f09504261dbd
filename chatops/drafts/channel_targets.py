"""A channel's default targets: where `/post` without `--to` publishes from that channel.

The press office may always speak on every network; the library's channel only as the
library. Setting them needs the approver role (what a channel publishes to by default is
an approver's call, like approving), is audited, and is checked against the accounts
connected now, so a typo never becomes a default.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatops.access.authz import RolePolicy, same_workspace
from chatops.domain.accounts import Account
from chatops.domain.errors import NotAllowed
from chatops.domain.types import Actor, ChannelRef, Role
from chatops.networks import Networks
from chatops.runtime.clock import Clock
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.targets import ChannelTargets


@dataclass(frozen=True)
class Defaults:
    """What the channel set ("" for nothing) and the accounts that names now."""

    spec: str
    accounts: tuple[Account, ...]


class ChannelDefaults:
    def __init__(
        self, *, db: Database, clock: Clock, networks: Networks, policy: RolePolicy
    ) -> None:
        self.db = db
        self.clock = clock
        self.networks = networks
        self.policy = policy

    async def get(self, actor: Actor, channel: ChannelRef) -> Defaults:
        """The channel's defaults; with none set, the agency's default account. A default
        naming an account that is no longer connected raises the resolver's message."""
        self._require_own(actor, channel)
        async with self.db.transaction() as session:
            spec = await ChannelTargets(session).get(channel)
        if not spec:
            return Defaults("", (self.networks.default_account(),))
        return Defaults(spec, self.networks.resolve(spec))

    async def set(self, actor: Actor, channel: ChannelRef, spec: str | None) -> Defaults:
        """Set the defaults to `spec` (a `--to` value), or clear them (None)."""
        self._require_own(actor, channel)
        accounts = self.networks.resolve(spec) if spec is not None else ()
        stored = " ".join(a.key for a in accounts)
        now = self.clock.now()
        async with self.db.transaction() as session:
            await self.policy.require_role(
                session, actor, Role.APPROVER, "Setting this channel's default targets"
            )
            await ChannelTargets(session).set(channel, stored, now=now)
            await AuditLog(session).record(
                at=now,
                actor=actor.user_id,
                platform=actor.platform,
                channel=channel.channel_id,
                workspace=actor.workspace,
                action="channel_targets_set" if stored else "channel_targets_cleared",
                targets=[a.key for a in accounts],
            )
        if not stored:
            return Defaults("", (self.networks.default_account(),))
        return Defaults(stored, accounts)

    def _require_own(self, actor: Actor, channel: ChannelRef) -> None:
        if not same_workspace(actor, channel.workspace_id):
            raise NotAllowed("You can only change channels of your own workspace.")
