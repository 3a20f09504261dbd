"""What is degraded right now, for `/healthz` and for the admin who reads it.

Background jobs, alert delivery and pollers report here; a problem stays listed (with
when it started) until the same component succeeds again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chatops.runtime.clock import Clock


@dataclass
class HealthBoard:
    clock: Clock
    problems: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def failing(self, component: str, detail: str) -> None:
        since = self.problems.get(component, (detail, self.clock.now()))[1]
        self.problems[component] = (detail, since)

    def recovered(self, component: str) -> None:
        self.problems.pop(component, None)

    def snapshot(self) -> dict[str, str]:
        return {
            component: f"{detail} (since {since.isoformat(timespec='seconds')})"
            for component, (detail, since) in sorted(self.problems.items())
        }
