"""Fetch a draft's image from the web as `chatops.drafts.image_sources` allows, and nothing else.

Redirects are followed by hand, each hop's address checked before it is requested, and the
connection goes through a resolver that checks every address DNS gives for the host and
hands aiohttp exactly those: there is no second lookup for a rebinding DNS server to answer
differently. Failures come back as `ImageUnavailable` with a reason fit for a card; what
went wrong inside (addresses, ports, exception text) is logged for the admin only.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import structlog
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from chatops.drafts.image_sources import (
    MAX_REDIRECTS,
    NOT_PUBLIC,
    TOO_MANY_REDIRECTS,
    UNREACHABLE,
    ImageSources,
)

log = structlog.get_logger(__name__)

MAX_IMAGE_BYTES = 5 * 1024 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ImageUnavailable(Exception):
    """`reason` completes "Image N was not published: …"; `retryable` when a later try may
    succeed (the site was down), not when the address is refused."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class _AddressRefused(Exception):
    """Raised inside the resolver; aiohttp passes it through unchanged."""


class CheckedResolver(AbstractResolver):
    """The system's resolver, answering only when every address it found is allowed."""

    def __init__(self, sources: ImageSources) -> None:
        self.sources = sources
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        refused = [r["host"] for r in found if self.sources.address_refusal(r["host"])]
        if refused or not found:
            log.warning("image_address_refused", host=host, addresses=refused)
            raise _AddressRefused(host)
        return found

    async def close(self) -> None:
        await self._inner.close()


async def fetch_image(
    url: str, sources: ImageSources, *, client_timeout: aiohttp.ClientTimeout
) -> tuple[bytes, str]:
    """The image's bytes and content type, after at most MAX_REDIRECTS checked redirects."""
    connector = aiohttp.TCPConnector(resolver=CheckedResolver(sources), use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        current = URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            refusal = sources.url_refusal(str(current))
            if refusal is not None:
                raise ImageUnavailable(refusal, retryable=False)
            answer = await _get(session, current)
            if isinstance(answer, URL):
                current = answer
                continue
            return answer
    raise ImageUnavailable(TOO_MANY_REDIRECTS, retryable=False)


async def _get(session: aiohttp.ClientSession, url: URL) -> URL | tuple[bytes, str]:
    """One hop: where it redirects to, or the image."""
    try:
        async with session.get(url, allow_redirects=False) as response:
            if response.status in REDIRECTS and "Location" in response.headers:
                return url.join(URL(response.headers["Location"]))
            if response.status != 200:
                raise ImageUnavailable(
                    f"{UNREACHABLE} (it answered HTTP {response.status})",
                    retryable=response.status >= 500,
                )
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            if not content_type.startswith("image/"):
                raise ImageUnavailable("its address is not that of an image", retryable=False)
            content = await response.content.read(MAX_IMAGE_BYTES + 1)
    except _AddressRefused:
        raise ImageUnavailable(NOT_PUBLIC, retryable=False) from None
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("image_fetch_failed", error=_describe(error))
        raise ImageUnavailable(UNREACHABLE, retryable=True) from None
    if len(content) > MAX_IMAGE_BYTES:
        raise ImageUnavailable("it is larger than 5 MB, the most X accepts", retryable=False)
    return content, content_type


def _describe(error: Any) -> str:
    return f"{type(error).__name__}: {error}"
