"""The X accounts the settings configure, each as a port with its own credentials."""

from __future__ import annotations

from adapters.social.x.network import XNetwork
from chatops.drafts.image_sources import ImageSources
from chatops.networks import Connection
from chatops.runtime.clock import Clock
from chatops.runtime.settings import Settings
from chatops.storage.database import Database


def x_connections(
    settings: Settings, *, db: Database, clock: Clock, image_sources: ImageSources
) -> list[Connection]:
    """Today's single-account settings (X_BEARER_TOKEN and the user-context keys)."""
    return [Connection(XNetwork(settings, db=db, clock=clock, image_sources=image_sources))]
