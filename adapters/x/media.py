"""Images through X's v2 media upload, which tweepy does not offer: signed by hand with
OAuth 1.0a (oauthlib, which tweepy itself uses) over the shared session."""

from __future__ import annotations

from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuth1

from adapters.x.session import CANONICAL_ROOT, RootedSession
from chatops.domain.errors import PublishError
from chatops.domain.types import MediaItem

UPLOAD = "/2/media/upload"
METADATA = "/2/media/metadata"
MAX_IMAGE_BYTES = 5 * 1024 * 1024


class MediaUploader:
    def __init__(self, session: RootedSession, signer: OAuth1) -> None:
        self.session = session
        self.signer = signer

    async def upload(self, item: MediaItem) -> str:
        """Fetch the image, upload it, attach its alt text; return X's media id."""
        content, content_type = await self._fetch(item.url)
        form = aiohttp.FormData()
        form.add_field("media", content, filename="image", content_type=content_type)
        form.add_field("media_category", "tweet_image")
        answer = await self._post(UPLOAD, data=form)
        media_id = str((answer.get("data") or {}).get("id", ""))
        if not media_id:
            raise PublishError(f"X did not accept the image {item.url}", retryable=False)
        if item.alt_text:
            body = {"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}}
            await self._post(METADATA, json=body)
        return media_id

    async def _fetch(self, url: str) -> tuple[bytes, str]:
        try:
            async with self.session.session.get(url) as response:
                if response.status != 200:
                    raise PublishError(
                        f"the image {url} could not be fetched (HTTP {response.status})",
                        retryable=response.status >= 500,
                    )
                content_type = response.headers.get("Content-Type", "").split(";")[0]
                if not content_type.startswith("image/"):
                    raise PublishError(f"{url} is not an image ({content_type})", retryable=False)
                content = await response.content.read(MAX_IMAGE_BYTES + 1)
        except aiohttp.ClientError as error:
            raise PublishError(
                f"the image {url} could not be fetched ({error})", retryable=True
            ) from error
        if len(content) > MAX_IMAGE_BYTES:
            raise PublishError(f"the image {url} is larger than 5 MB", retryable=False)
        return content, content_type

    async def _post(self, route: str, **kwargs: Any) -> dict[str, Any]:
        _, headers, _ = self.signer.sign(CANONICAL_ROOT + route, http_method="POST")
        try:
            async with self.session.request(
                "POST", CANONICAL_ROOT + route, headers=headers, **kwargs
            ) as response:
                answer: dict[str, Any] = await response.json(content_type=None)
                if response.status in (401, 403):
                    raise PublishError(
                        f"X refused the media upload ({response.status}); check X_API_KEY, "
                        "X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET",
                        retryable=False,
                    )
                if response.status >= 400:
                    raise PublishError(
                        f"X refused the image ({response.status}: {answer.get('detail', answer)})",
                        retryable=response.status == 429 or response.status >= 500,
                    )
                return answer
        except aiohttp.ClientError as error:
            raise PublishError(f"uploading an image failed ({error})", retryable=True) from error
