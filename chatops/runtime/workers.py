"""Background work: the publisher, alert delivery and pollers, each on its own beat."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from chatops.runtime.health import HealthBoard

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    """`wake`, when given, runs the job at once instead of at its next beat (an approval
    made in this process need not wait for the publisher's next poll of the outbox)."""

    name: str
    run: Callable[[], Awaitable[object]]
    interval: float
    wake: asyncio.Event | None = None


class Workers:
    """Runs jobs repeatedly until stopped; `run_all_once` is the console's and tests' drain."""

    def __init__(self, jobs: list[Job], health: HealthBoard | None = None) -> None:
        self.jobs = jobs
        self.health = health
        self._stop = asyncio.Event()

    async def run_all_once(self) -> None:
        for job in self.jobs:
            await self._run(job)

    async def run_forever(self) -> None:
        async with asyncio.TaskGroup() as group:
            for job in self.jobs:
                group.create_task(self._loop(job), name=job.name)

    def stop(self) -> None:
        self._stop.set()
        for job in self.jobs:
            if job.wake is not None:
                job.wake.set()

    async def _loop(self, job: Job) -> None:
        wake = job.wake or self._stop
        while not self._stop.is_set():
            if job.wake is not None:
                job.wake.clear()
            await self._run(job)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=job.interval)

    async def _run(self, job: Job) -> None:
        try:
            await job.run()
        except Exception as error:
            # A failing job must not stop the others; it is retried on its next beat.
            log.exception("job_failed", job=job.name)
            if self.health is not None:
                self.health.failing(job.name, f"failing: {type(error).__name__}")
        else:
            if self.health is not None:
                self.health.recovered(job.name)
