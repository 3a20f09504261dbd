"""The lifecycle every fake external API shares: an aiohttp app on a free local port.

Each fake binds its port before serving, so the URLs a test hands to an SDK are known
before any client connects, and closes without waiting on lingering keep-alive clients.
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

from aiohttp import web


class FakeServer:
    """Base of the fake APIs: subclasses say which routes they serve, this runs them."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        app = web.Application()
        self.routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``; only meaningful once started."""
        if self._port is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} is not started; use `async with {name}()`")
        return f"127.0.0.1:{self._port}"
