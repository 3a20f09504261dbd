"""Images through X's v2 media upload, which tweepy does not offer: signed by hand with
OAuth 1.0a (oauthlib, which tweepy itself uses) over the shared session. The image itself is
fetched by `adapters.social.images`, from public addresses only."""

from __future__ import annotations

from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuth1

from adapters.social.images import ImageUnavailable, fetch_image
from adapters.social.x.session import CANONICAL_ROOT, RootedSession
from chatops.domain.errors import PublishError
from chatops.domain.types import MediaItem
from chatops.drafts.image_sources import ImageSources, image_refused

UPLOAD = "/2/media/upload"
METADATA = "/2/media/metadata"


class MediaUploader:
    def __init__(
        self, session: RootedSession, signer: OAuth1, sources: ImageSources | None = None
    ) -> None:
        self.session = session
        self.signer = signer
        self.sources = sources or ImageSources()

    async def upload(self, item: MediaItem, number: int = 1) -> str:
        """Fetch the image (from a public address only), upload it, attach its alt text;
        return X's media id. `number` names the image in what the card says."""
        try:
            content, content_type = await fetch_image(
                item.url, self.sources, client_timeout=self.session.timeout
            )
        except ImageUnavailable as error:
            raise PublishError(
                image_refused(number, error.reason), retryable=error.retryable
            ) from None
        form = aiohttp.FormData()
        form.add_field("media", content, filename="image", content_type=content_type)
        form.add_field("media_category", "tweet_image")
        answer = await self._post(UPLOAD, data=form)
        media_id = str((answer.get("data") or {}).get("id", ""))
        if not media_id:
            raise PublishError(f"X did not accept image {number}", retryable=False)
        if item.alt_text:
            body = {"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}}
            await self._post(METADATA, json=body)
        return media_id

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
