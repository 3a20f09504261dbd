"""The one aiohttp session every X call goes through, pointed at `X_API_BASE_URL`.

tweepy builds every URL as "https://api.twitter.com" + route and, without a session of
its own, opens and closes one per request. Handing it this object gives it one shared
connection pool, and sends its requests to the configured root (a proxy or a test
server) with path and query untouched, so OAuth signatures computed over the canonical
URL stay valid for whatever forwards them.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from yarl import URL

CANONICAL_ROOT = "https://api.twitter.com"


class RootedSession:
    def __init__(self, root: str, *, timeout: float) -> None:
        self.root = root.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def rebase(self, url: str | URL) -> URL:
        text = str(url)
        if text.startswith(CANONICAL_ROOT):
            text = self.root + text[len(CANONICAL_ROOT) :]
        return URL(text, encoded=True)

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        """What tweepy calls: the session's request context manager, on the configured root."""
        return self.session.request(method, self.rebase(url), **kwargs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
