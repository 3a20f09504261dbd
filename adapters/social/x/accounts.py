"""The X accounts the settings configure, each as a port with its own credentials."""

from __future__ import annotations

from adapters.social.x.config import XAccountConfig
from adapters.social.x.network import XNetwork
from chatops.drafts.image_sources import ImageSources
from chatops.networks import Connection
from chatops.runtime.clock import Clock
from chatops.runtime.settings import Settings
from chatops.storage.database import Database


def x_connections(
    settings: Settings, *, db: Database, clock: Clock, image_sources: ImageSources
) -> list[Connection]:
    """One connection per X account (the single-account settings' first, if set), each
    its own `XNetwork`, with the account's required approvals and default flag."""
    specs = [spec for spec in settings.social_accounts if spec.network == "x"]
    handles = {spec.handle.lower() for spec in specs if spec.handle}
    connections = []
    for spec in specs:
        config = XAccountConfig.from_settings(
            settings, spec, other_handles=frozenset(handles - {(spec.handle or "").lower()})
        )
        port = XNetwork(config, db=db, clock=clock, image_sources=image_sources)
        connections.append(
            Connection(port, required_approvals=spec.required_approvals, default=spec.default)
        )
    return connections
