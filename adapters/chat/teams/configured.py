"""Whether Teams is switched on, without importing the SDK (it is only loaded when it is)."""

from __future__ import annotations

from chatops.runtime.settings import Settings


def teams_configured(settings: Settings) -> bool:
    return bool(settings.teams_app_id) or settings.teams_enabled
