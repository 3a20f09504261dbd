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

from adapters.social.x.config import XAccountConfig
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
from chatops.domain.accounts import Account, AccountHealth
from chatops.domain.errors import CredentialRejected, PublishError
from chatops.domain.types import Mention
from chatops.drafts.image_sources import ImageSources
from chatops.ports import MentionBatch, PublishedPost, PublishRequest
from chatops.runtime.clock import Clock
from chatops.storage.database import Database
from chatops.storage.drafts import DraftStore
from chatops.storage.tables import AccountRow

log = structlog.get_logger(__name__)

BEARER = "X_BEARER_TOKEN"
"""The single-account settings' names; each account's own are `XNetwork.bearer_name` and
`XNetwork.user_context`."""
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
        config: XAccountConfig,
        *,
        db: Database,
        clock: Clock,
        backoff: float = 1.0,
        backoff_cap: float = 60.0,
        attempts: int = 5,
        limits: EndpointLimits | None = None,
        image_sources: ImageSources | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.attempts = attempts
        self.limits = limits or EndpointLimits()
        self.bearer_name = config.bearer_name
        self.user_context = config.user_context
        self.session = RootedSession(config.base_url, timeout=config.timeout)
        bearer = config.bearer_token.get_secret_value() if config.bearer_token else None
        self.reader = AsyncClient(bearer_token=bearer, return_type=aiohttp.ClientResponse)
        self.reader.session = self.session
        secrets = config.user_secrets
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
        self.username: str | None = config.handle
        self.rejected: dict[str, str] = {}
        """Credentials X refused, by setting name, with X's reason: what health reports."""
        self.identity_problem: str | None = None
        """Set when the keys answer for another account than the configured handle."""

    @property
    def accounts(self) -> Sequence[str]:
        return [self.username] if self.username else []

    async def start(self) -> None:
        """Learn the account's id (and handle, when not configured): stored after the
        first lookup. An account whose handle is configured is known without it, so one
        account's refused keys are reported by `health` instead of stopping the others."""
        if self.config.handle is None:
            await self.identify()
            return
        try:
            await self.identify()
        except CredentialRejected as error:
            log.warning("x_account_unidentified", account=self.config.handle, problem=str(error))

    async def close(self) -> None:
        await self.session.close()

    def health(self) -> Sequence[AccountHealth]:
        """Whether the account can read and publish, naming each setting to fix."""
        account = Account(
            network=self.network, handle=self.username or "", kind=self.kind, label=self.label
        )
        problems: list[str] = []
        can_read = self.config.bearer_token is not None and self.bearer_name not in self.rejected
        if self.config.bearer_token is None:
            problems.append(f"cannot read: {self.bearer_name} not set")
        elif not can_read:
            problems.append(
                f"cannot read: X refused {self.bearer_name} ({self.rejected[self.bearer_name]})"
            )
        missing = self.config.missing_user_context
        refused = self.rejected.get(self.user_context)
        can_publish = not missing and refused is None and self.identity_problem is None
        if missing:
            problems.append(f"cannot publish: {', '.join(missing)} not set")
        elif refused is not None:
            problems.append(f"cannot publish: X refused {self.user_context} ({refused})")
        if self.identity_problem is not None:
            problems.append(f"cannot publish: {self.identity_problem}")
        if not self.username:
            problems.append("its handle is not known yet (X has not answered GET /2/users/me)")
        return [AccountHealth(account, can_read, can_publish, "; ".join(problems))]

    async def identify(self) -> str:
        if self.user_id is not None:
            return self.user_id
        if self.identity_problem is not None:
            raise CredentialRejected(self.user_context, "they are another account's keys")
        stored = await self._stored_identity()
        if stored is not None:
            self.user_id, self.username = stored
            return stored[0]
        if self.can_publish:
            answer = await self._read("users:me", self.user_context, lambda: self.writer.get_me())
        elif self.config.handle is not None and self.config.bearer_token is not None:
            handle = self.config.handle
            answer = await self._read(
                "users:lookup",
                self.bearer_name,
                lambda: self.reader.get_user(username=handle),
            )
            if "data" not in answer:
                raise CredentialRejected(self.bearer_name, f"X knows no account @{handle}")
        else:
            raise CredentialRejected(
                self.user_context, "they are needed to look up the account (GET /2/users/me)"
            )
        data = answer["data"]
        username = str(data["username"])
        configured = self.config.handle
        if configured is not None and username.lower() != configured.lower():
            self.identity_problem = (
                f"{self.user_context} are the keys of @{username}, not of @{configured}; "
                f"set the keys of @{configured}"
            )
            log.warning("x_account_mismatch", account=configured, answered=username)
            raise CredentialRejected(
                self.user_context, f"they are the keys of @{username}, not of @{configured}"
            )
        handle = configured or username
        async with self.db.transaction() as session:
            account = await DraftStore(session).account(NETWORK, handle, now=self.clock.now())
            account.external_user_id = str(data["id"])
        self.user_id, self.username = str(data["id"]), handle
        log.info("x_account_identified", username=self.username, user_id=self.user_id)
        return self.user_id

    async def _stored_identity(self) -> tuple[str, str] | None:
        """The id and handle stored by an earlier lookup: this account's own row (by its
        configured handle), or, with no handle configured, the one X row no other
        configured account claims."""
        async with self.db.transaction() as session:
            rows = list(
                await session.scalars(
                    select(AccountRow)
                    .where(AccountRow.network == NETWORK, AccountRow.external_user_id.is_not(None))
                    .order_by(AccountRow.id)
                )
            )
        if self.config.handle is not None:
            wanted = self.config.handle.lower()
            mine = [r for r in rows if r.handle.lower() == wanted]
        else:
            mine = [r for r in rows if r.handle.lower() not in self.config.other_handles]
            if len(mine) > 1:
                return None  # which is ours only X can say
        if not mine:
            return None
        return str(mine[0].external_user_id), self.config.handle or mine[0].handle

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
            "tweets:lookup", self.bearer_name, lambda: self.reader.get_tweet(tweet_id, **_params())
        )
        if "data" not in answer:
            return None
        users = {u["id"]: u for u in (answer.get("includes") or {}).get("users", [])}
        return mention_from(
            answer["data"], users, account=addressed_to(answer["data"], users, self.accounts)
        )

    async def publish(self, request: PublishRequest) -> PublishedPost:
        username = await self._publishing_identity(request.account)
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
                f"X refused the post ({_detail(error)}); check {self.user_context}",
                retryable=False,
            ) from error
        except Unauthorized as error:
            self.rejected[self.user_context] = _detail(error)
            raise PublishError(
                f"X refused {self.user_context} ({_detail(error)})", retryable=False
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
            "users:tweets",
            self.bearer_name,
            lambda: self.reader.get_users_tweets(user_id, **params),
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

    async def _publishing_identity(self, account: str) -> str:
        """This account's handle, once sure the keys are its own: never a post from the
        wrong account, nor from this one for a draft meant for another."""
        if not self.can_publish:
            raise PublishError(f"publishing to X needs {self.user_context}", retryable=False)
        try:
            await self.identify()
        except CredentialRejected as error:
            raise PublishError(self.identity_problem or str(error), retryable=False) from error
        username = self.username or ""
        if account and username and account.lower() != username.lower():
            raise PublishError(
                f"this draft is for @{account}, but {self.user_context} publish as @{username}",
                retryable=False,
            )
        return username

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
            answer = await self._read(endpoint, self.bearer_name, functools.partial(page, token))
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
        if credential == self.bearer_name and self.config.bearer_token is None:
            raise CredentialRejected(credential, "it is not set")
        async for attempt in retrying:
            with attempt:
                await self.limits.wait(endpoint)
                try:
                    response = await call()
                except TooManyRequests as error:
                    self.limits.close(endpoint, error.reset_time)
                    raise
                except (Unauthorized, Forbidden) as error:
                    self.rejected[credential] = _detail(error)
                    raise CredentialRejected(credential, _detail(error)) from error
                self.rejected.pop(credential, None)
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
