"""The core's use cases bundled for the command handlers, free of any adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chatops.authz import RolePolicy
from chatops.clock import Clock
from chatops.curation import Curation
from chatops.image_sources import ImageSources
from chatops.inbox import AlertDesk
from chatops.notify import Notifier
from chatops.roles import RoleAdmin
from chatops.storage.database import Database
from chatops.subscriptions import Subscriptions
from chatops.workflow import DraftWorkflow


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
    image_sources: ImageSources = field(default_factory=ImageSources)

    @property
    def network_label(self) -> str:
        return self.notifier.label(self.workflow.social.network)
