"""X as a `SocialPort`: mentions, saved searches and publishing, over tweepy's AsyncClient.

Reads use the bearer token, publishing OAuth 1.0a user context. Reads wait out closed
rate-limit windows and back off exponentially (with a cap) from 5xx and timeouts; a
401/403 is a `CredentialRejected` naming the setting to check. Publishing is never
retried here: the core's outbox retries, and first asks `find_published`, because X has
no idempotency key and a timeout after sending may or may not have created the post.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import structlog
from oauthlib.oauth1 import Client as OAuth1
from sqlalchemy import select
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tweepy.asynchronous import AsyncClient
from tweepy.errors import (
    BadRequest,
    Forbidden,
    HTTPException,
    TooManyRequests,
    TwitterServerError,
    Unauthorized,
)

from adapters.social.x.limits import EndpointLimits
from adapters.social.x.mapping import (
    EXPANSIONS,
    NETWORK,
    TWEET_FIELDS,
    USER_FIELDS,
    addressed_to,
    first_page_cursor,
    mention_from,
    mentions_from,
    post_url,
    same_post,
)
from adapters.social.x.media import MediaUploader
from adapters.social.x.session import RootedSession
from chatops.domain.errors import CredentialRejected, PublishError
from chatops.domain.types import Mention
from chatops.drafts.image_sources import ImageSources
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.runtime.clock import Clock
from chatops.runtime.settings import Settings
from chatops.storage.database import Database
from chatops.storage.drafts import DraftStore
from chatops.storage.tables import AccountRow

log = structlog.get_logger(__name__)

BEARER = "X_BEARER_TOKEN"
USER_CONTEXT = "X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET"
MAX_PAGES = 10
TRANSIENT = (TwitterServerError, TooManyRequests, aiohttp.ClientError, TimeoutError)
DUPLICATE = "duplicate content"
_STATUS_ID = re.compile(r"(?:^|/status(?:es)?/)(\d{5,25})(?:[/?#]|$)")


class XNetwork:
    network = NETWORK
    kind = "x"
    label = "X"

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database,
        clock: Clock,
        backoff: float = 1.0,
        backoff_cap: float = 60.0,
        attempts: int = 5,
        limits: EndpointLimits | None = None,
        image_sources: ImageSources | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.attempts = attempts
        self.limits = limits or EndpointLimits()
        self.session = RootedSession(settings.x_api_base_url, timeout=settings.x_timeout_seconds)
        bearer = settings.x_bearer_token.get_secret_value() if settings.x_bearer_token else None
        self.reader = AsyncClient(bearer_token=bearer, return_type=aiohttp.ClientResponse)
        self.reader.session = self.session
        secrets = [
            settings.x_api_key,
            settings.x_api_secret,
            settings.x_access_token,
            settings.x_access_token_secret,
        ]
        self.can_publish = all(secret is not None for secret in secrets)
        key, secret, token, token_secret = (s.get_secret_value() if s else None for s in secrets)
        self.writer = AsyncClient(
            consumer_key=key,
            consumer_secret=secret,
            access_token=token,
            access_token_secret=token_secret,
            return_type=aiohttp.ClientResponse,
        )
        self.writer.session = self.session
        self.media = MediaUploader(
            self.session, OAuth1(key, secret, token, token_secret), image_sources
        )
        self.user_id: str | None = None
        self.username: str | None = None

    @property
    def accounts(self) -> Sequence[str]:
        return [self.username] if self.username else []

    async def start(self) -> None:
        """Learn the account's id and handle: stored after the first `GET /2/users/me`."""
        await self.identify()

    async def close(self) -> None:
        await self.session.close()

    async def identify(self) -> str:
        if self.user_id is not None:
            return self.user_id
        async with self.db.transaction() as session:
            row = await session.scalar(
                select(AccountRow).where(
                    AccountRow.network == NETWORK, AccountRow.external_user_id.is_not(None)
                )
            )
            if row is not None:
                self.user_id, self.username = row.external_user_id, row.handle
                return str(row.external_user_id)
        if not self.can_publish:
            raise CredentialRejected(
                USER_CONTEXT, "they are needed to look up the account (GET /2/users/me)"
            )
        answer = await self._read("users:me", USER_CONTEXT, lambda: self.writer.get_me())
        data = answer["data"]
        async with self.db.transaction() as session:
            account = await DraftStore(session).account(
                NETWORK, data["username"], now=self.clock.now()
            )
            account.external_user_id = str(data["id"])
        self.user_id, self.username = str(data["id"]), str(data["username"])
        log.info("x_account_identified", username=self.username, user_id=self.user_id)
        return self.user_id

    async def fetch_mentions(self, cursor: str | None, *, limit: int) -> MentionBatch:
        user_id = await self.identify()

        def page(token: str | None) -> Awaitable[Any]:
            params = _params(since_id=cursor, pagination_token=token, max_results=_clamp(limit, 5))
            request: Awaitable[Any] = self.reader.get_users_mentions(user_id, **params)
            return request

        return await self._pages("mentions", cursor, page, account=self.username or "")

    async def search(self, query: str, cursor: str | None, *, limit: int) -> MentionBatch:
        def page(token: str | None) -> Awaitable[Any]:
            params = _params(since_id=cursor, next_token=token, max_results=_clamp(limit, 10))
            request: Awaitable[Any] = self.reader.search_recent_tweets(query, **params)
            return request

        return await self._pages("search", cursor, page, agency=self.accounts)

    async def lookup_mention(self, reference: str) -> Mention | None:
        match = _STATUS_ID.search(reference.strip())
        if match is None:
            return None
        tweet_id = match.group(1)
        answer = await self._read(
            "tweets:lookup", BEARER, lambda: self.reader.get_tweet(tweet_id, **_params())
        )
        if "data" not in answer:
            return None
        users = {u["id"]: u for u in (answer.get("includes") or {}).get("users", [])}
        return mention_from(
            answer["data"], users, account=addressed_to(answer["data"], users, self.accounts)
        )

    async def publish(self, request: PublishRequest) -> PublishedPost:
        username = await self._publishing_identity()
        media_ids = [
            await self.media.upload(item, number)
            for number, item in enumerate(request.media, start=1)
        ]
        await self.limits.wait("tweets:create")
        try:
            response = await self.writer.create_tweet(
                text=request.text,
                in_reply_to_tweet_id=request.reply_to_id,
                media_ids=media_ids or None,
                user_auth=True,
            )
        except Forbidden as error:
            if DUPLICATE in _detail(error).lower():
                return await self._reconcile_duplicate(request)
            raise PublishError(
                f"X refused the post ({_detail(error)}); check {USER_CONTEXT}", retryable=False
            ) from error
        except Unauthorized as error:
            raise PublishError(
                f"X refused {USER_CONTEXT} ({_detail(error)})", retryable=False
            ) from error
        except TooManyRequests as error:
            self.limits.close("tweets:create", error.reset_time)
            raise PublishError(
                "X rate limit reached; will retry after it resets", retryable=True
            ) from error
        except TwitterServerError as error:
            raise PublishError(
                f"X answered {error.response.status}; the post may exist",
                retryable=True,
                ambiguous=True,
            ) from error
        except BadRequest as error:
            raise PublishError(f"X rejected the post: {_detail(error)}", retryable=False) from error
        except HTTPException as error:
            raise PublishError(f"X refused the post: {_detail(error)}", retryable=False) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PublishError(
                f"no answer from X after sending ({type(error).__name__}); the post may exist",
                retryable=True,
                ambiguous=True,
            ) from error
        self.limits.observe("tweets:create", response.headers)
        post_id = str((await response.json())["data"]["id"])
        return PublishedPost(external_id=post_id, url=post_url(username, post_id))

    async def find_published(self, request: PublishRequest) -> PublishedPost | None:
        """Look for the post among the account's recent posts, by text and reply target."""
        user_id = await self.identify()
        params = {"max_results": 100, "tweet_fields": ["referenced_tweets", "created_at"]}
        answer = await self._read(
            "users:tweets", BEARER, lambda: self.reader.get_users_tweets(user_id, **params)
        )
        for tweet in answer.get("data") or []:
            if same_post(request.text, request.reply_to_id, tweet, not_before=request.not_before):
                return PublishedPost(
                    str(tweet["id"]), post_url(self.username or "i", str(tweet["id"]))
                )
        return None

    async def _reconcile_duplicate(self, request: PublishRequest) -> PublishedPost:
        """X calls it a duplicate: either our earlier attempt made it, or an older post did."""
        found = await self.find_published(request)
        if found is not None:
            return found
        raise PublishError(
            "X refused the text as a duplicate of an older post; edit the draft and approve again",
            retryable=False,
        )

    async def _publishing_identity(self) -> str:
        if not self.can_publish:
            raise PublishError(f"publishing to X needs {USER_CONTEXT}", retryable=False)
        try:
            await self.identify()
        except CredentialRejected as error:
            raise PublishError(str(error), retryable=False) from error
        return self.username or ""

    async def _pages(
        self,
        endpoint: str,
        cursor: str | None,
        page: Callable[[str | None], Awaitable[Any]],
        *,
        account: str = "",
        agency: Sequence[str] = (),
    ) -> MentionBatch:
        """Every page newer than `cursor` (only the newest page on a first poll); the
        mentions addressed to `account` (a mentions timeline) or to the `agency` handle
        each names (a search)."""
        pages: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            answer = await self._read(endpoint, BEARER, functools.partial(page, token))
            pages.append(answer)
            token = (answer.get("meta") or {}).get("next_token")
            if not token or cursor is None:
                break
        mentions = [
            mention
            for answer in reversed(pages)
            for mention in mentions_from(answer, account=account, agency=agency)
        ]
        return MentionBatch(mentions=mentions, cursor=first_page_cursor(pages, cursor))

    async def _read(
        self, endpoint: str, credential: str, call: Callable[[], Awaitable[Any]]
    ) -> dict[str, Any]:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential_jitter(
                multiplier=self.backoff, max=self.backoff_cap, jitter=self.backoff
            ),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self.limits.wait(endpoint)
                try:
                    response = await call()
                except TooManyRequests as error:
                    self.limits.close(endpoint, error.reset_time)
                    raise
                except (Unauthorized, Forbidden) as error:
                    raise CredentialRejected(credential, _detail(error)) from error
                self.limits.observe(endpoint, response.headers)
                answer: dict[str, Any] = await response.json()
                return answer
        raise AssertionError("unreachable: tenacity reraises the last error")


def _params(**values: Any) -> dict[str, Any]:
    params = {
        "expansions": list(EXPANSIONS),
        "tweet_fields": list(TWEET_FIELDS),
        "user_fields": list(USER_FIELDS),
    }
    params.update({name: value for name, value in values.items() if value is not None})
    return params


def _clamp(limit: int, low: int) -> int:
    return max(low, min(100, limit))


def _detail(error: HTTPException) -> str:
    messages = list(error.api_messages) or [str(getattr(error.response, "reason", ""))]
    return "; ".join(str(m) for m in messages if m) or str(error)
