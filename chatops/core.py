"""The core's use cases bundled for the command handlers, free of any adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chatops.access.authz import RolePolicy
from chatops.access.roles import RoleAdmin
from chatops.chat.notify import Notifier
from chatops.drafts.channel_targets import ChannelDefaults
from chatops.drafts.image_sources import ImageSources
from chatops.drafts.workflow import DraftWorkflow
from chatops.listening.curation import Curation
from chatops.listening.inbox import AlertDesk
from chatops.listening.subscriptions import Subscriptions
from chatops.runtime.clock import Clock
from chatops.storage.database import Database


@dataclass(frozen=True)
class Core:
    db: Database
    clock: Clock
    zone: ZoneInfo
    approval_reactions: tuple[str, ...]
    role_policy: RolePolicy
    notifier: Notifier
    workflow: DraftWorkflow
    subscriptions: Subscriptions
    roles: RoleAdmin
    alerts: AlertDesk
    curation: Curation
    targets: ChannelDefaults
    image_sources: ImageSources = field(default_factory=ImageSources)

    def label(self, network: str) -> str:
        """A network's name for people: "X", "Sandbox Mastodon"."""
        return self.workflow.networks.label(network)
