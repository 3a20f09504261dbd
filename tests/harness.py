"""The console adapter as a test harness: a scenario reads like a conversation."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from adapters.chat.console.chat import PLATFORM, ConsoleChat
from adapters.chat.console.session import ConsoleSession
from chatops.runtime.clock import ManualClock
from chatops.runtime.settings import Settings
from chatops.service import Service, build_service


def unwrapped(said: str) -> str:
    """Console output with each card's lines joined, so a test can look for a field's
    whole value however the box wrapped it."""
    return re.sub(r"\n│ +", " ", said)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **overrides)  # type: ignore[call-arg]


class Conversation:
    """Types lines into a console session and returns what the console printed."""

    def __init__(
        self, service: Service, session: ConsoleSession, out: io.StringIO, clock: ManualClock
    ) -> None:
        self.service = service
        self.session = session
        self.out = out
        self.clock = clock

    @classmethod
    async def start(
        cls,
        database_url: str,
        *,
        user: str = "alice",
        now: datetime,
        open_console: bool = True,
        chat: type[ConsoleChat] = ConsoleChat,
        **settings: Any,
    ) -> Conversation:
        """`chat` may be a test's own console chat (one whose posts fail, say)."""
        clock = ManualClock(now)
        service = build_service(
            make_settings(database_url, **settings),
            clock=clock,
            open_platforms={PLATFORM} if open_console else (),
        )
        for port in service.networks.ports:
            await port.start()
        out = io.StringIO()
        console = chat(out, reaction="white_check_mark")
        session = ConsoleSession(
            context=service.context(console),
            registry=service.registry,
            chat=console,
            user=user,
            out=out,
            drain=service.drain_jobs().run_all_once,
        )
        return cls(service, session, out, clock)

    async def say(self, *lines: str) -> str:
        start = self.out.tell()
        for line in lines:
            await self.session.handle(line)
        self.out.seek(start)
        said = self.out.read()
        self.out.seek(0, io.SEEK_END)
        return said

    async def tick(self) -> str:
        """Let background work run once (as the console's beat does)."""
        start = self.out.tell()
        await self.session.background()
        self.out.seek(start)
        said = self.out.read()
        self.out.seek(0, io.SEEK_END)
        return said

    async def close(self) -> None:
        await self.service.close()
