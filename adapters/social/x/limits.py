"""X's rate-limit windows, per endpoint, read from its response headers.

A closed window (no requests left before `x-rate-limit-reset`) is never called into: the
first caller waits until the reset (plus jitter, so replicas do not all return at the
same second) while later callers for the same endpoint queue behind it instead of
stampeding the moment it reopens.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Window:
    remaining: int
    reset_at: float


class EndpointLimits:
    def __init__(
        self,
        *,
        jitter: float = 1.0,
        now: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.jitter = jitter
        self.now = now
        self.sleep = sleep
        self.windows: dict[str, Window] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, endpoint: str) -> None:
        """Return when a call to `endpoint` may be made."""
        lock = self._locks.setdefault(endpoint, asyncio.Lock())
        async with lock:
            window = self.windows.get(endpoint)
            if window is None or window.remaining > 0:
                return
            delay = window.reset_at - self.now()
            if delay > 0:
                await self.sleep(delay + random.uniform(0, self.jitter))
            del self.windows[endpoint]

    def observe(self, endpoint: str, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-rate-limit-remaining")
        reset = headers.get("x-rate-limit-reset")
        if remaining is None or reset is None:
            return
        try:
            self.windows[endpoint] = Window(int(remaining), float(reset))
        except ValueError:
            return

    def close(self, endpoint: str, reset_at: float | None) -> None:
        """A 429: no more calls until the reset (or a minute, if X did not say)."""
        self.windows[endpoint] = Window(0, reset_at if reset_at else self.now() + 60)
