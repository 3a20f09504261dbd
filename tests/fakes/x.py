"""A local fake of the X (Twitter) API v2 that speaks X's real HTTP protocol and JSON shapes.

Why a server rather than a mock: tests drive tweepy's real ``AsyncClient`` (and plain aiohttp
calls for media upload) against ``FakeX.base_url``. tweepy hard-codes
``https://api.twitter.com``, so the project hands it a session that swaps that prefix for
``base_url`` and keeps path and query byte for byte. Query encoding, OAuth 1.0a signing,
``Response`` parsing, pagination and tweepy's exception mapping (``Unauthorized``,
``TooManyRequests`` with ``reset_time``, ``TwitterServerError``...) then run exactly as they do
against X, so a test failure means our code would fail in production too.

OAuth 1.0a signatures are checked against the canonical ``https://api.twitter.com`` URL, as a
transparent proxy in front of X would see them: tweepy signed that URL, not the fake's.

Several accounts: the fake starts with one (the constructor's user and credentials) and
``add_account`` adds more, each with its own bearer token and OAuth 1.0a keys, so a test can
prove that each account's requests carry its own credentials: ``GET /2/users/me`` answers
the user whose access token signed the request, ``POST /2/tweets`` posts as that user, and
every request records which user (``XRequest.user_id``) and post (``posts(of=...)``,
``posted_with``) it came from.

The fake keeps a small tweet store (mentions and posts by other users via ``add_mention``, the
account's own posts via ``POST /2/tweets``) so timelines, search, lookups, pagination and
duplicate detection answer consistently. Every request is recorded in ``requests``, and tests
can script rate limits, outages, auth failures, slowness and dropped connections.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import itertools
import json
import math
import re
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web
from oauthlib.oauth1 import Client as OAuth1Client
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from twitter_text import parse_tweet

from tests.fakes.server import FakeServer

# What tweepy (and any client going through a proxy) signs: the real API origin.
CANONICAL_ORIGIN = "https://api.twitter.com"

# The first id handed out; tweet and media ids share one counter, as snowflakes do.
FIRST_SNOWFLAKE = 1_850_000_000_000_000_000
FIRST_USER_ID = 1_500_000_000

# X's standard 15-minute window and the headers every response carries until a test narrows it.
WINDOW_SECONDS = 900
DEFAULT_LIMIT = 450

MAX_TWEET_LENGTH = 280
MAX_ALT_TEXT = 1000
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_MEDIA_PER_TWEET = 4
MAX_QUERY_LENGTH = 512

ID_PATTERN = re.compile(r"[0-9]{1,19}")
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]{1,15}")

TWEET_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULT_FIELDS = ("id", "name", "username")

# The field names X accepts; anything else is a 400, so a typo in our code fails a test.
TWEET_FIELDS = frozenset(
    {
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    }
)
USER_FIELDS = frozenset(
    {
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "is_identity_verified",
        "location",
        "most_recent_tweet_id",
        "name",
        "parody",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_followers_count",
        "verified_type",
        "withheld",
    }
)
TWEET_EXPANSIONS = frozenset(
    {
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
    }
)
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})

# Query parameters per endpoint family; X rejects unknown ones with a 400.
_OBJECT_FIELDS = frozenset({"media.fields", "place.fields", "poll.fields", "tweet.fields"})
LOOKUP_PARAMS = _OBJECT_FIELDS | {"expansions", "user.fields"}
USER_LOOKUP_PARAMS = frozenset({"expansions", "tweet.fields", "user.fields"})
TIMELINE_PARAMS = LOOKUP_PARAMS | {
    "end_time",
    "max_results",
    "pagination_token",
    "since_id",
    "start_time",
    "until_id",
}
USER_TWEETS_PARAMS = TIMELINE_PARAMS | {"exclude"}
SEARCH_PARAMS = (TIMELINE_PARAMS - {"pagination_token"}) | {"next_token", "query", "sort_order"}

CREATE_TWEET_KEYS = frozenset(
    {
        "card_uri",
        "community_id",
        "direct_message_deep_link",
        "for_super_followers_only",
        "geo",
        "made_with_ai",
        "media",
        "nullcast",
        "paid_partnership",
        "poll",
        "quote_tweet_id",
        "reply",
        "reply_settings",
        "share_with_followers",
        "text",
    }
)
MEDIA_CATEGORIES = {
    "tweet_image": "3",
    "dm_image": "3",
    "tweet_gif": "16",
    "dm_gif": "16",
    "tweet_video": "7",
    "dm_video": "7",
    "amplify_video": "13",
}

UNAUTHORIZED_BODY: dict[str, Any] = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
UNSUPPORTED_AUTH_BODY: dict[str, Any] = {
    "title": "Unsupported Authentication",
    "detail": (
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
    ),
    "type": "https://api.twitter.com/2/problems/unsupported-authentication",
    "status": 403,
}
NOT_FOUND_ROUTE_BODY: dict[str, Any] = {
    "errors": [{"message": "Sorry, that page does not exist", "code": 34}]
}

Auth = Literal["bearer", "oauth1", "none", "invalid"]
BEARER_OR_USER: frozenset[Auth] = frozenset({"bearer", "oauth1"})
USER_ONLY: frozenset[Auth] = frozenset({"oauth1"})


@dataclass
class XRequest:
    """One request the fake received, decoded the way a test wants to assert on it.

    ``auth`` says how the request authenticated: ``"bearer"`` or ``"oauth1"`` when the
    credentials were valid, ``"invalid"`` when an Authorization header was present but wrong,
    ``"none"`` when it was missing.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any | None
    form: dict[str, Any]
    auth: str
    status: int = 0
    answer: Any = None  # the JSON body the fake answered with, when a route handled it
    user_id: str | None = None  # the account whose OAuth 1.0a keys signed it (None: bearer)
    credential: str | None = None  # the bearer token or access token it carried, if valid


@dataclass
class _User:
    id: str
    username: str
    name: str
    verified: bool
    verified_type: str
    followers: int
    following: int
    listed: int
    created_at: datetime


@dataclass
class _Tweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    lang: str
    conversation_id: str
    in_reply_to: str | None
    in_reply_to_user_id: str | None
    likes: int = 0
    reposts: int = 0
    quotes: int = 0
    impressions: int = 0
    mentions_account: bool = False
    mentioned: str | None = None  # the account it mentions (user id); None: the first one
    media_ids: list[str] = field(default_factory=list)
    posted_with: str | None = None  # the access token of the request that posted it


@dataclass(frozen=True)
class _Keys:
    """One account's OAuth 1.0a credentials (its app's and its own)."""

    user_id: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


@dataclass
class _Fault:
    """A scripted answer for the next ``times`` requests whose path starts with ``prefix``."""

    kind: Literal["rate_limit", "server_error", "unauthorized"]
    prefix: str
    times: int
    status: int
    reset_in: float = 0.0


@dataclass
class _Slow:
    prefix: str
    seconds: float
    times: int


@dataclass
class _Window:
    """A rate-limit window a test set on a path prefix; refreshed once ``reset`` passes."""

    limit: int
    remaining: int
    reset: float


@dataclass
class _Call:
    """What a route handler needs from one request, already parsed and authenticated."""

    request: web.Request
    params: dict[str, str]
    query: dict[str, str]
    json: Any | None
    form: dict[str, Any]
    auth: Auth
    user_id: str | None = None  # the acting account, for OAuth 1.0a requests
    access_token: str | None = None  # the access token that signed it


class _XError(Exception):
    """Raised inside handlers to answer with X's error JSON and status."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


_Handler = Callable[[_Call], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: _Handler
    auth: frozenset[Auth]
    query_params: frozenset[str]
    expansions: frozenset[str] = TWEET_EXPANSIONS


class FakeX(FakeServer):
    """Starts on 127.0.0.1 on a free port.

    Use as ``async with FakeX() as x:`` and route tweepy's ``https://api.twitter.com`` to
    ``x.base_url``. A free port per instance lets tests run in parallel.
    """

    def __init__(
        self,
        *,
        user_id: str = "1000",
        username: str = "PortAlderCity",
        name: str = "City of Port Alder",
        bearer_token: str = "bearer-test",
        consumer_key: str = "ck-test",
        consumer_secret: str = "cs-test",
        access_token: str = "at-test",
        access_token_secret: str = "ats-test",
        clock: Callable[[], datetime] | None = None,
        first_id: int = FIRST_SNOWFLAKE,
    ) -> None:
        """``first_id``: where tweet ids start, so two fakes (two accounts) never mint the
        same id, as X never does."""
        super().__init__()
        # The time posts are stamped with: a test on a manual clock passes its clock, so
        # "older than" comparisons never depend on the day the test runs.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.user_id = user_id
        self.username = username
        self.name = name
        self.bearer_token = bearer_token
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.requests: list[XRequest] = []
        self.media: dict[str, dict[str, Any]] = {}
        # Kept apart from ``media`` so that dict stays exactly what tests assert on.
        self._media_keys: dict[str, str] = {}

        self._users: dict[str, _User] = {
            user_id: _User(
                id=user_id,
                username=username,
                name=name,
                verified=True,
                verified_type="government",
                followers=25_000,
                following=310,
                listed=140,
                created_at=datetime(2011, 3, 14, 16, 0, tzinfo=UTC),
            )
        }
        self._keys: dict[str, _Keys] = {
            access_token: _Keys(
                user_id, consumer_key, consumer_secret, access_token, access_token_secret
            )
        }
        self._bearers: dict[str, str] = {bearer_token: user_id}
        self._tweets: dict[str, _Tweet] = {}
        self._snowflakes = itertools.count(first_id)
        self._user_ids = itertools.count(FIRST_USER_ID)
        self._faults: list[_Fault] = []
        self._slow: list[_Slow] = []
        self._windows: dict[str, _Window] = {}
        self._drops = 0
        self._routes = self._build_routes()

    # -- lifecycle -------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash: it replaces X's origin."""
        return f"http://{self.host}"

    # -- test controls ---------------------------------------------------------------------

    def requests_to(self, method: str, path_prefix: str) -> list[XRequest]:
        """The recorded requests with this method whose path starts with ``path_prefix``."""
        return [
            r
            for r in self.requests
            if r.method == method.upper() and r.path.startswith(path_prefix)
        ]

    def add_account(
        self,
        username: str,
        *,
        bearer_token: str,
        access_token: str,
        access_token_secret: str,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        name: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """Another account of the agency, with its own keys (its own app's too, if given;
        else the first account's app); returns its user id."""
        new_id = user_id or str(next(self._user_ids))
        self._users[new_id] = _User(
            id=new_id,
            username=username,
            name=name or username,
            verified=True,
            verified_type="government",
            followers=5_000,
            following=50,
            listed=20,
            created_at=datetime(2014, 5, 2, 10, 0, tzinfo=UTC),
        )
        self._keys[access_token] = _Keys(
            new_id,
            consumer_key or self.consumer_key,
            consumer_secret or self.consumer_secret,
            access_token,
            access_token_secret,
        )
        self._bearers[bearer_token] = new_id
        return new_id

    def user_id_of(self, username: str) -> str:
        user = self._user_by_username(username)
        if user is None:
            raise KeyError(username)
        return user.id

    def add_mention(
        self,
        text: str,
        *,
        author: str = "resident1",
        name: str = "A Resident",
        followers: int = 120,
        verified: bool = False,
        lang: str = "en",
        in_reply_to: str | None = None,
        created_at: datetime | None = None,
        likes: int = 0,
        reposts: int = 0,
        mentions_account: bool = True,
        to: str | None = None,
    ) -> str:
        """Add a tweet by another user and return its id.

        The author is created on first use and updated on later calls, so one resident can
        post several times. ``in_reply_to`` may name a tweet the fake does not know (e.g. one
        a test pretends predates it); the reply is then attributed to the account.
        Only tweets with ``mentions_account`` appear in the mentions timeline of the account
        ``to`` names (the first account when None); every tweet is searchable.
        """
        user = self._user_by_username(author)
        if user is None:
            user = _User(
                id=str(next(self._user_ids)),
                username=author,
                name=name,
                verified=verified,
                verified_type="blue" if verified else "none",
                followers=followers,
                following=80,
                listed=0,
                created_at=datetime(2019, 6, 1, 9, 30, tzinfo=UTC),
            )
            self._users[user.id] = user
        else:
            user.name = name
            user.followers = followers
            user.verified = verified
            user.verified_type = "blue" if verified else "none"
        tweet = self._new_tweet(
            text,
            author_id=user.id,
            lang=lang,
            in_reply_to=in_reply_to,
            created_at=created_at,
        )
        tweet.likes = likes
        tweet.reposts = reposts
        tweet.mentions_account = mentions_account
        tweet.mentioned = None if to is None else self.user_id_of(to)
        return tweet.id

    def posts(self, of: str | None = None) -> list[dict[str, Any]]:
        """The posts of the account ``of`` names (the first account when None), oldest first;
        ``created_at`` is an aware UTC datetime, ``posted_with`` the access token used."""
        author = self.user_id if of is None else self.user_id_of(of)
        own = sorted(
            (t for t in self._tweets.values() if t.author_id == author),
            key=lambda t: int(t.id),
        )
        return [
            {
                "id": t.id,
                "text": t.text,
                "in_reply_to": t.in_reply_to,
                "media_ids": list(t.media_ids),
                "created_at": t.created_at,
                "posted_with": t.posted_with,
            }
            for t in own
        ]

    def rate_limit(self, path_prefix: str, *, times: int = 1, reset_in: float = 1.0) -> None:
        """Answer the next ``times`` matching requests with 429, as X does when throttling."""
        self._faults.append(_Fault("rate_limit", path_prefix, times, 429, reset_in))

    def set_window(
        self, path_prefix: str, *, remaining: int, reset_in: float, limit: int = DEFAULT_LIMIT
    ) -> None:
        """Narrow the rate-limit window on a prefix, e.g. to test backing off before a 429.

        ``remaining`` is how many calls may still be made before ``reset_in`` seconds pass;
        each call consumes one and its response reports what is left, so the call that uses
        the last one says ``remaining: 0`` and the next one gets a 429. After the reset a
        fresh 15-minute window of ``limit`` calls starts. The longest matching prefix wins.
        """
        self._windows[path_prefix] = _Window(
            limit=max(limit, remaining), remaining=max(remaining, 0), reset=time.time() + reset_in
        )

    def server_error(self, path_prefix: str, *, times: int = 1, status: int = 503) -> None:
        """Answer the next ``times`` matching requests with a 5xx (X has outages and 503s)."""
        if not 500 <= status <= 599:
            raise ValueError(f"server_error needs a 5xx status, got {status}")
        self._faults.append(_Fault("server_error", path_prefix, times, status))

    def unauthorized(self, path_prefix: str, *, times: int = 1, status: int = 401) -> None:
        """Answer the next ``times`` matching requests with 401 or 403 (revoked app, suspended
        account) whatever credentials they carry."""
        if status not in (401, 403):
            raise ValueError(f"unauthorized needs status 401 or 403, got {status}")
        self._faults.append(_Fault("unauthorized", path_prefix, times, status))

    def slow(self, path_prefix: str, *, seconds: float, times: int = 1) -> None:
        """Delay the next ``times`` matching requests, to exercise client timeouts."""
        self._slow.append(_Slow(path_prefix, seconds, times))

    def drop_after_accepting(self, *, times: int = 1) -> None:
        """Make the next ``times`` successful ``POST /2/tweets`` store the post and then cut the
        connection without answering: the case where only a lookup can tell whether the post
        went out, which exactly-once publishing must survive."""
        self._drops += times

    # -- plumbing --------------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        def route(
            method: str,
            pattern: str,
            handler: _Handler,
            auth: frozenset[Auth],
            query: frozenset[str],
            expansions: frozenset[str] = TWEET_EXPANSIONS,
        ) -> _Route:
            return _Route(method, re.compile(pattern), handler, auth, query, expansions)

        none: frozenset[str] = frozenset()
        return [
            route(
                "GET",
                r"/2/users/me",
                self._users_me,
                USER_ONLY,
                USER_LOOKUP_PARAMS,
                USER_EXPANSIONS,
            ),
            route(
                "GET",
                r"/2/users/by/username/(?P<username>[^/]+)",
                self._user_by_username_route,
                BEARER_OR_USER,
                USER_LOOKUP_PARAMS,
                USER_EXPANSIONS,
            ),
            route(
                "GET",
                r"/2/users/(?P<id>[^/]+)/mentions",
                self._mentions,
                BEARER_OR_USER,
                TIMELINE_PARAMS,
            ),
            route(
                "GET",
                r"/2/users/(?P<id>[^/]+)/tweets",
                self._user_tweets,
                BEARER_OR_USER,
                USER_TWEETS_PARAMS,
            ),
            # X also accepts OAuth 1.0a user context for recent search, not just app-only.
            route("GET", r"/2/tweets/search/recent", self._search, BEARER_OR_USER, SEARCH_PARAMS),
            route("GET", r"/2/tweets/(?P<id>[^/]+)", self._tweet, BEARER_OR_USER, LOOKUP_PARAMS),
            route("POST", r"/2/tweets", self._create_tweet, USER_ONLY, none),
            route("POST", r"/2/media/upload", self._media_upload, USER_ONLY, none),
            route("POST", r"/2/media/metadata", self._media_metadata, USER_ONLY, none),
        ]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Every request: parse, authenticate, record, then answer scripted or real."""
        path = request.path
        query = {key: value for key, value in request.query.items()}
        json_body: Any | None = None
        form: dict[str, Any] = {}
        signed_body: str | None = None
        body_error: _XError | None = None
        if request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                raw = await request.text()
                try:
                    json_body = json.loads(raw)
                except json.JSONDecodeError:
                    body_error = _invalid_request("Request body is not valid JSON.")
            elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                if content_type == "application/x-www-form-urlencoded":
                    # RFC 5849 signs form-encoded bodies (never multipart or JSON ones).
                    signed_body = await request.text()
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        form[key] = value.file.read()
                    elif isinstance(value, bytes | bytearray):
                        form[key] = bytes(value)
                    else:
                        form[key] = value
            else:
                await request.read()

        auth, keys, credential = self._authenticate(request, signed_body)
        recorded = XRequest(request.method, path, query, json_body, form, auth)
        recorded.credential = credential
        recorded.user_id = keys.user_id if keys is not None else None
        self.requests.append(recorded)

        for slow in self._slow:
            if slow.times > 0 and path.startswith(slow.prefix):
                slow.times -= 1
                await asyncio.sleep(slow.seconds)
                break

        fault = self._take_fault(path)
        if fault is not None:
            return self._fault_response(fault, path)

        route, params = self._match(request.method, path)
        if route is None:
            return self._respond(path, 404, NOT_FOUND_ROUTE_BODY)
        if auth in ("none", "invalid"):
            return self._respond(path, 401, UNAUTHORIZED_BODY)
        if auth not in route.auth:
            return self._respond(path, 403, UNSUPPORTED_AUTH_BODY)

        limited, headers = self._consume_window(path)
        if limited:
            return _json(429, _problem(429), headers)

        call = _Call(
            request,
            params,
            query,
            json_body,
            form,
            auth,
            recorded.user_id,
            keys.access_token if keys is not None else None,
        )
        try:
            if body_error is not None:
                raise body_error
            _check_query_params(query, route.query_params)
            # Field and expansion names are checked up front, as X does, even when the
            # answer turns out empty or not found.
            _fields(query, "tweet.fields", TWEET_FIELDS)
            _fields(query, "user.fields", USER_FIELDS)
            _fields(query, "expansions", route.expansions)
            status, body = await route.handler(call)
        except _XError as exc:
            status, body = exc.status, exc.body
        recorded.status, recorded.answer = status, body
        return _json(status, body, headers)

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route in self._routes:
            if route.method != method:
                continue
            match = route.pattern.fullmatch(path)
            if match is not None:
                return route, match.groupdict()
        return None, {}

    def _authenticate(
        self, request: web.Request, signed_body: str | None
    ) -> tuple[Auth, _Keys | None, str | None]:
        """How the request authenticated, whose OAuth keys signed it, and the valid bearer
        or access token it carried."""
        header = request.headers.get("Authorization", "")
        if not header.strip():
            return "none", None, None
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer":
            token = credential.strip()
            for bearer in self._bearers:
                if hmac.compare_digest(token.encode(), bearer.encode()):
                    return "bearer", None, bearer
            return "invalid", None, None
        if scheme.lower() == "oauth":
            keys = self._oauth1_keys(request, header, signed_body)
            if keys is None:
                return "invalid", None, None
            return "oauth1", keys, keys.access_token
        return "invalid", None, None

    def _oauth1_keys(
        self, request: web.Request, header: str, signed_body: str | None
    ) -> _Keys | None:
        """Verify an HMAC-SHA1 signature over the canonical X URL, with the raw query as sent.

        The raw path and query are used (not aiohttp's decoded view) because the signature
        base string must be rebuilt from exactly the bytes the client signed.
        """
        raw_path, _, raw_query = request.raw_path.partition("?")
        try:
            # The header's values are still percent-encoded (RFC 5849 section 3.5.1).
            oauth = {
                key: oauth_utils.unescape(value)
                for key, value in oauth_utils.parse_authorization_header(header)
            }
            params = oauth_signature.collect_parameters(
                uri_query=raw_query,
                body=signed_body,
                headers={"Authorization": header},
                exclude_oauth_signature=True,
                with_realm=False,
            )
            base_uri = oauth_signature.base_string_uri(CANONICAL_ORIGIN + raw_path)
            base = oauth_signature.signature_base_string(
                request.method, base_uri, oauth_signature.normalize_parameters(params)
            )
        except ValueError:
            return None
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return None
        if oauth.get("oauth_version", "1.0") != "1.0":
            return None
        if not oauth.get("oauth_nonce") or not oauth.get("oauth_timestamp"):
            return None
        keys = self._keys.get(oauth.get("oauth_token", ""))
        if keys is None or oauth.get("oauth_consumer_key") != keys.consumer_key:
            return None
        signer = OAuth1Client(
            keys.consumer_key,
            client_secret=keys.consumer_secret,
            resource_owner_key=keys.access_token,
            resource_owner_secret=keys.access_token_secret,
        )
        expected = oauth_signature.sign_hmac_sha1_with_client(base, signer)
        signed = oauth.get("oauth_signature", "").encode()
        return keys if hmac.compare_digest(expected.encode(), signed) else None

    def _take_fault(self, path: str) -> _Fault | None:
        """Consume one scripted fault; the oldest matching script goes first."""
        for fault in self._faults:
            if fault.times > 0 and path.startswith(fault.prefix):
                fault.times -= 1
                return fault
        return None

    def _fault_response(self, fault: _Fault, path: str) -> web.Response:
        if fault.kind == "rate_limit":
            headers = _rate_headers(DEFAULT_LIMIT, 0, time.time() + fault.reset_in)
            return _json(429, _problem(429), headers)
        return self._respond(path, fault.status, _problem(fault.status))

    def _respond(self, path: str, status: int, body: dict[str, Any]) -> web.Response:
        """An answer that still carries (without consuming) the prefix's rate-limit headers."""
        window = self._window_for(path)
        if window is None:
            return _json(status, body, _default_rate_headers())
        return _json(status, body, _rate_headers(window.limit, window.remaining, window.reset))

    def _window_for(self, path: str) -> _Window | None:
        matching = [prefix for prefix in self._windows if path.startswith(prefix)]
        if not matching:
            return None
        return self._windows[max(matching, key=len)]

    def _consume_window(self, path: str) -> tuple[bool, dict[str, str]]:
        """Count one call against the prefix's window; ``True`` when it is exhausted."""
        window = self._window_for(path)
        if window is None:
            return False, _default_rate_headers()
        now = time.time()
        if now >= window.reset:
            window.remaining = window.limit
            window.reset = now + WINDOW_SECONDS
        if window.remaining <= 0:
            return True, _rate_headers(window.limit, 0, window.reset)
        window.remaining -= 1
        return False, _rate_headers(window.limit, window.remaining, window.reset)

    # -- store -----------------------------------------------------------------------------

    def _next_id(self) -> str:
        return str(next(self._snowflakes))

    def _user_by_username(self, username: str) -> _User | None:
        wanted = username.lstrip("@").lower()
        for user in self._users.values():
            if user.username.lower() == wanted:
                return user
        return None

    def _new_tweet(
        self,
        text: str,
        *,
        author_id: str,
        lang: str,
        in_reply_to: str | None,
        created_at: datetime | None,
        media_ids: list[str] | None = None,
    ) -> _Tweet:
        tweet_id = self._next_id()
        conversation_id = tweet_id
        in_reply_to_user_id: str | None = None
        if in_reply_to is not None:
            parent = self._tweets.get(in_reply_to)
            if parent is not None:
                conversation_id = parent.conversation_id
                in_reply_to_user_id = parent.author_id
            else:
                conversation_id = in_reply_to
                in_reply_to_user_id = self.user_id
        when = created_at if created_at is not None else self.clock()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        tweet = _Tweet(
            id=tweet_id,
            text=text,
            author_id=author_id,
            created_at=when.astimezone(UTC),
            lang=lang,
            conversation_id=conversation_id,
            in_reply_to=in_reply_to,
            in_reply_to_user_id=in_reply_to_user_id,
            media_ids=list(media_ids or []),
        )
        self._tweets[tweet_id] = tweet
        return tweet

    # -- rendering -------------------------------------------------------------------------

    def _render_tweet(self, tweet: _Tweet, fields: set[str]) -> dict[str, Any]:
        """Defaults plus the requested fields that apply to this tweet, as X omits the rest."""
        out: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.text,
            "edit_history_tweet_ids": [tweet.id],
        }
        if "author_id" in fields:
            out["author_id"] = tweet.author_id
        if "created_at" in fields:
            out["created_at"] = _iso(tweet.created_at)
        if "lang" in fields:
            out["lang"] = tweet.lang
        if "conversation_id" in fields:
            out["conversation_id"] = tweet.conversation_id
        if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id is not None:
            out["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        if "referenced_tweets" in fields and tweet.in_reply_to is not None:
            out["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to}]
        if "attachments" in fields and tweet.media_ids:
            out["attachments"] = {"media_keys": [self._media_keys[m] for m in tweet.media_ids]}
        if "possibly_sensitive" in fields:
            out["possibly_sensitive"] = False
        if "reply_settings" in fields:
            out["reply_settings"] = "everyone"
        if "public_metrics" in fields:
            replies = sum(1 for t in self._tweets.values() if t.in_reply_to == tweet.id)
            # Both names: X's OpenAPI (2.167) requires repost_count, clients still read the
            # retweet_count the API has always sent.
            out["public_metrics"] = {
                "repost_count": tweet.reposts,
                "retweet_count": tweet.reposts,
                "reply_count": replies,
                "like_count": tweet.likes,
                "quote_count": tweet.quotes,
                "bookmark_count": 0,
                "impression_count": tweet.impressions,
            }
        return out

    def _render_user(self, user: _User, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "verified" in fields:
            out["verified"] = user.verified
        if "verified_type" in fields:
            out["verified_type"] = user.verified_type
        if "protected" in fields:
            out["protected"] = False
        if "description" in fields:
            out["description"] = ""
        if "created_at" in fields:
            out["created_at"] = _iso(user.created_at)
        if "public_metrics" in fields:
            posts = sum(1 for t in self._tweets.values() if t.author_id == user.id)
            out["public_metrics"] = {  # post_count per X's OpenAPI, tweet_count as X sends it
                "followers_count": user.followers,
                "following_count": user.following,
                "post_count": posts,
                "tweet_count": posts,
                "listed_count": user.listed,
            }
        return out

    def _tweets_answer(self, call: _Call, tweets: list[_Tweet]) -> dict[str, Any]:
        """``data`` plus ``includes`` for the requested expansions (only those X would add)."""
        tweet_fields = _fields(call.query, "tweet.fields", TWEET_FIELDS)
        user_fields = _fields(call.query, "user.fields", USER_FIELDS)
        expansions = _fields(call.query, "expansions", TWEET_EXPANSIONS)
        answer: dict[str, Any] = {"data": [self._render_tweet(t, tweet_fields) for t in tweets]}
        includes: dict[str, Any] = {}
        user_ids: list[str] = []
        if "author_id" in expansions:
            user_ids.extend(t.author_id for t in tweets)
        if "in_reply_to_user_id" in expansions:
            user_ids.extend(t.in_reply_to_user_id for t in tweets if t.in_reply_to_user_id)
        users = [self._users[u] for u in dict.fromkeys(user_ids) if u in self._users]
        if users:
            includes["users"] = [self._render_user(u, user_fields) for u in users]
        if "referenced_tweets.id" in expansions:
            parents = [
                self._tweets[t.in_reply_to]
                for t in tweets
                if t.in_reply_to is not None and t.in_reply_to in self._tweets
            ]
            if parents:
                unique = {p.id: p for p in parents}.values()
                includes["tweets"] = [self._render_tweet(p, tweet_fields) for p in unique]
        if includes:
            answer["includes"] = includes
        return answer

    def _page(
        self,
        call: _Call,
        candidates: list[_Tweet],
        *,
        min_results: int,
        token_param: str,
    ) -> dict[str, Any]:
        """Filter, sort newest first and cut one page, with X's ``meta`` and ``next_token``."""
        query = call.query
        max_results = _int_param(query, "max_results", 10, min_results, 100)
        since_id = _id_param(query, "since_id")
        until_id = _id_param(query, "until_id")
        start_time = _time_param(query, "start_time")
        end_time = _time_param(query, "end_time")
        cursor: int | None = None
        if token_param in query:
            cursor = _decode_token(query[token_param], token_param)
        selected = [
            t
            for t in candidates
            if (since_id is None or int(t.id) > since_id)
            and (until_id is None or int(t.id) < until_id)
            and (cursor is None or int(t.id) < cursor)
            and (start_time is None or t.created_at >= start_time)
            and (end_time is None or t.created_at < end_time)
        ]
        selected.sort(key=lambda t: int(t.id), reverse=True)
        page = selected[:max_results]
        if not page:
            return {"meta": {"result_count": 0}}
        answer = self._tweets_answer(call, page)
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if len(selected) > len(page):
            meta["next_token"] = _encode_token(int(page[-1].id))
        answer["meta"] = meta
        return answer

    def _known_user(self, user_id: str) -> _User:
        if not ID_PATTERN.fullmatch(user_id):
            raise _invalid_param("id", user_id, _pattern_message("id", user_id))
        user = self._users.get(user_id)
        if user is None:
            raise _XError(200, _not_found("user", "id", user_id))
        return user

    # -- endpoints -------------------------------------------------------------------------

    async def _users_me(self, call: _Call) -> tuple[int, dict[str, Any]]:
        fields = _fields(call.query, "user.fields", USER_FIELDS)
        return 200, {"data": self._render_user(self._users[call.user_id or self.user_id], fields)}

    async def _user_by_username_route(self, call: _Call) -> tuple[int, dict[str, Any]]:
        username = call.params["username"]
        if not USERNAME_PATTERN.fullmatch(username):
            raise _invalid_param(
                "username",
                username,
                f"The `username` query parameter value [{username}] does not match "
                "^[A-Za-z0-9_]{1,15}$",
            )
        fields = _fields(call.query, "user.fields", USER_FIELDS)
        user = self._user_by_username(username)
        if user is None:
            return 200, _not_found("user", "username", username)
        return 200, {"data": self._render_user(user, fields)}

    async def _mentions(self, call: _Call) -> tuple[int, dict[str, Any]]:
        user = self._known_user(call.params["id"])
        candidates = [
            t
            for t in self._tweets.values()
            if t.mentions_account and (t.mentioned or self.user_id) == user.id
        ]
        return 200, self._page(call, candidates, min_results=5, token_param="pagination_token")

    async def _user_tweets(self, call: _Call) -> tuple[int, dict[str, Any]]:
        user = self._known_user(call.params["id"])
        exclude = _fields(call.query, "exclude", frozenset({"replies", "retweets"}))
        candidates = [
            t
            for t in self._tweets.values()
            if t.author_id == user.id and not ("replies" in exclude and t.in_reply_to)
        ]
        return 200, self._page(call, candidates, min_results=5, token_param="pagination_token")

    async def _search(self, call: _Call) -> tuple[int, dict[str, Any]]:
        query = call.query.get("query", "")
        if not query.strip():
            raise _invalid_param("query", query, "The `query` query parameter can not be empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise _invalid_param(
                "query",
                query,
                f"There were errors processing your request: Query is too long "
                f"(max {MAX_QUERY_LENGTH} characters)",
            )
        sort_order = call.query.get("sort_order", "recency")
        if sort_order not in ("recency", "relevancy"):
            raise _invalid_param(
                "sort_order",
                sort_order,
                f"The `sort_order` query parameter value [{sort_order}] is not one of "
                "[recency,relevancy]",
            )
        predicate = _compile_query(query, self)
        candidates = [t for t in self._tweets.values() if predicate(t)]
        return 200, self._page(call, candidates, min_results=10, token_param="next_token")

    async def _tweet(self, call: _Call) -> tuple[int, dict[str, Any]]:
        tweet_id = call.params["id"]
        if not ID_PATTERN.fullmatch(tweet_id):
            raise _invalid_param("id", tweet_id, _pattern_message("id", tweet_id))
        tweet = self._tweets.get(tweet_id)
        if tweet is None:
            return 200, _not_found("tweet", "id", tweet_id)
        answer = self._tweets_answer(call, [tweet])
        answer["data"] = answer["data"][0]
        return 200, answer

    async def _create_tweet(self, call: _Call) -> tuple[int, dict[str, Any]]:
        body = _json_object(call)
        unknown = sorted(set(body) - CREATE_TWEET_KEYS)
        if unknown:
            raise _invalid_request(
                f"$.{unknown[0]}: is not defined in the schema and the schema does not allow "
                "additional properties"
            )
        text = body.get("text", "")
        if not isinstance(text, str):
            raise _invalid_request("$.text: expected a string")
        media = body.get("media") or {}
        media_ids = media.get("media_ids", []) if isinstance(media, dict) else None
        if not isinstance(media_ids, list) or not all(isinstance(m, str) for m in media_ids):
            raise _invalid_request("$.media.media_ids: expected an array of strings")
        if not text and not media_ids:
            raise _invalid_request(
                "You must specify either a Tweet text, media, poll, card, quote or "
                "direct message deep link."
            )
        if len(media_ids) > MAX_MEDIA_PER_TWEET:
            raise _invalid_request("$.media.media_ids: there must be a maximum of 4 items")
        if any(m not in self.media for m in media_ids):
            raise _invalid_param("media.media_ids", media_ids, "Your media IDs are invalid.")
        if text and parse_tweet(text).weightedLength > MAX_TWEET_LENGTH:
            # Weighted length (URLs count 23, CJK 2), as X counts it.
            raise _invalid_request(
                "Your Tweet text is too long. For more information on how Twitter determines "
                "text length see https://github.com/twitter/twitter-text."
            )
        in_reply_to: str | None = None
        reply = body.get("reply")
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(
                reply.get("in_reply_to_tweet_id"), str
            ):
                raise _invalid_request("$.reply.in_reply_to_tweet_id: is missing but required")
            in_reply_to = reply["in_reply_to_tweet_id"]
            if in_reply_to not in self._tweets:
                raise _XError(
                    403,
                    _problem(
                        403,
                        "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    ),
                )
        author = call.user_id or self.user_id
        if text and any(t.author_id == author and t.text == text for t in self._tweets.values()):
            raise _XError(
                403, _problem(403, "You are not allowed to create a Tweet with duplicate content.")
            )
        tweet = self._new_tweet(
            text,
            author_id=author,
            lang="en",
            in_reply_to=in_reply_to,
            created_at=None,
            media_ids=media_ids,
        )
        tweet.posted_with = call.access_token
        if self._drops > 0:
            self._drops -= 1
            # Abort (RST, no FIN handshake) so the client sees the connection die mid-request;
            # aiohttp then fails writing the answer below and quietly drops it.
            transport = call.request.transport
            if transport is not None:
                transport.abort()
        return 201, {
            "data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        }

    async def _media_upload(self, call: _Call) -> tuple[int, dict[str, Any]]:
        """One-shot upload: multipart (``media`` file part) or, as X's newer docs describe,
        JSON with base64 ``media``. Either way the OAuth signature never covers the body."""
        fields: dict[str, Any] = call.form
        data: Any = fields.get("media")
        if isinstance(call.json, dict):
            fields = call.json
            try:
                data = base64.b64decode(str(fields.get("media", "")), validate=True)
            except binascii.Error:
                data = None
        if not isinstance(data, bytes) or not data:
            raise _invalid_param("media", "", "The `media` field is required.")
        category = fields.get("media_category", "tweet_image")
        if not isinstance(category, str) or category.lower() not in MEDIA_CATEGORIES:
            raise _invalid_param(
                "media_category",
                str(category),
                f"The `media_category` parameter value [{category}] is not one of "
                f"[{','.join(MEDIA_CATEGORIES)}]",
            )
        category = category.lower()
        image = _image_info(data)
        if image is None:
            raise _invalid_param("media", "", "Media type unrecognized.")
        if len(data) > MAX_IMAGE_BYTES and category.endswith("image"):
            raise _invalid_param("media", "", f"File size exceeds {MAX_IMAGE_BYTES} bytes.")
        media_id = self._next_id()
        media_key = f"{MEDIA_CATEGORIES[category]}_{media_id}"
        self.media[media_id] = {"bytes": len(data), "category": category, "alt_text": None}
        self._media_keys[media_id] = media_key
        image_type, width, height = image
        return 200, {
            "data": {
                "id": media_id,
                "media_key": media_key,
                "size": len(data),
                "expires_after_secs": 86400,
                "image": {"image_type": image_type, "w": width, "h": height},
            }
        }

    async def _media_metadata(self, call: _Call) -> tuple[int, dict[str, Any]]:
        body = _json_object(call)
        media_id = body.get("id")
        if not isinstance(media_id, str) or media_id not in self.media:
            raise _invalid_param("id", str(media_id), f"The media id [{media_id}] is not valid.")
        metadata = body.get("metadata")
        alt = metadata.get("alt_text") if isinstance(metadata, dict) else None
        alt_text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(alt_text, str):
            raise _invalid_request("$.metadata.alt_text.text: is missing but required")
        if len(alt_text) > MAX_ALT_TEXT:
            raise _invalid_request(
                f"$.metadata.alt_text.text: must be at most {MAX_ALT_TEXT} characters long"
            )
        self.media[media_id]["alt_text"] = alt_text
        # X's OpenAPI (CreateMediaMetadataResponseData): the metadata now associated, an object.
        associated = {"alt_text": {"text": alt_text}}
        return 200, {"data": {"id": media_id, "associated_metadata": associated}}


# -- responses and errors ------------------------------------------------------------------


def _json(status: int, body: dict[str, Any], headers: dict[str, str]) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _rate_headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    """X's headers: the reset is whole epoch seconds, rounded up so it is never early."""
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(max(remaining, 0)),
        "x-rate-limit-reset": str(math.ceil(reset)),
    }


def _default_rate_headers() -> dict[str, str]:
    return _rate_headers(DEFAULT_LIMIT, DEFAULT_LIMIT - 1, time.time() + WINDOW_SECONDS)


def _problem(status: int, detail: str | None = None) -> dict[str, Any]:
    """X's RFC 7807-style body for status-level errors (401, 403, 429, 5xx)."""
    title = HTTPStatus(status).phrase
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status}


def _invalid_request(message: str, parameters: dict[str, Any] | None = None) -> _XError:
    error: dict[str, Any] = {"message": message}
    if parameters is not None:
        error = {"parameters": parameters, "message": message}
    return _XError(
        400,
        {
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def _invalid_param(name: str, value: Any, message: str) -> _XError:
    values = value if isinstance(value, list) else [value]
    return _invalid_request(message, {name: values})


def _pattern_message(name: str, value: str) -> str:
    return f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$"


def _not_found(resource: str, parameter: str, value: str) -> dict[str, Any]:
    """X answers a missing user or tweet with HTTP 200 and an ``errors`` array."""
    return {
        "errors": [
            {
                "value": value,
                "detail": f"Could not find {resource} with {parameter}: [{value}].",
                "title": "Not Found Error",
                "resource_type": resource,
                "parameter": parameter,
                "resource_id": value,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }


def _json_object(call: _Call) -> dict[str, Any]:
    if call.request.content_type != "application/json":
        raise _invalid_request("Requests with bodies must have content-type of application/json.")
    if not isinstance(call.json, dict):
        raise _invalid_request("Request body must be a JSON object.")
    return call.json


# -- query parameters ----------------------------------------------------------------------


def _check_query_params(query: dict[str, str], allowed: frozenset[str]) -> None:
    for name, value in query.items():
        if name not in allowed:
            raise _invalid_param(
                name,
                value,
                f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
            )


def _fields(query: dict[str, str], name: str, allowed: frozenset[str]) -> set[str]:
    raw = query.get(name, "")
    values = {value.strip() for value in raw.split(",") if value.strip()}
    for value in sorted(values):
        if value not in allowed:
            raise _invalid_param(
                name,
                value,
                f"The `{name}` query parameter value [{value}] is not one of "
                f"[{','.join(sorted(allowed))}]",
            )
    return values


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _invalid_param(
            name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        )
    return value


def _id_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not ID_PATTERN.fullmatch(raw):
        raise _invalid_param(name, raw, _pattern_message(name, raw))
    return int(raw)


def _time_param(query: dict[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _invalid_param(
            name,
            raw,
            f"The `{name}` query parameter value [{raw}] does not match "
            "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})$",
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _encode_token(cursor: int) -> str:
    """Opaque, stateless page tokens (X's look like lowercase base32 too)."""
    return base64.b32encode(f"page:{cursor}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str, name: str) -> int:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        prefix, _, cursor = base64.b32decode(padded).decode().partition(":")
        if prefix == "page" and cursor.isdigit():
            return int(cursor)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise _invalid_param(name, token, f"The `{name}` query parameter value [{token}] is not valid")


def _iso(moment: datetime) -> str:
    """X's timestamp format: UTC with milliseconds and a ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- search query language -----------------------------------------------------------------

_Predicate = Callable[[_Tweet], bool]

_QUERY_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\()
      | (?P<close>\))
      | (?P<neg>-)(?=[^\s)])
      | "(?P<phrase>[^"]*)"
      | (?P<word>[^\s()"]+(?:"[^"]*")?)
    )""",
    re.VERBOSE,
)
_OPERATOR = re.compile(r"(?P<name>[A-Za-z_]+):(?P<value>.+)")


def _compile_query(query: str, fake: FakeX) -> _Predicate:
    """Compile X's search syntax (a subset) into a predicate over tweets.

    Supported: terms and "quoted phrases" (case-insensitive, matched on word boundaries as X
    matches tokens), implicit AND, ``OR`` (binds looser than AND, as on X), parentheses and
    ``-`` negation. Operators: ``lang:xx``, ``from:user``, ``is:reply``, ``is:retweet`` and
    ``is:quote`` (the fake stores neither, so they never match). Other ``name:value``
    operators are ignored, negated or not, so a query never fails for using one.
    """
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(query):
        if query[position:].strip() == "":
            break
        match = _QUERY_TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise _query_error(query, f"Unexpected character at position {position + 1}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    parser = _QueryParser(tokens, query, fake)
    node = parser.parse()
    return node if node is not None else (lambda tweet: True)


def _query_error(query: str, reason: str) -> _XError:
    return _invalid_param("query", query, f"There were errors processing your request: {reason}")


class _QueryParser:
    """Recursive descent over ``or := and ('OR' and)*``, ``and := unary+``,
    ``unary := '-' unary | '(' or ')' | phrase | word``. ``None`` marks an ignored clause."""

    def __init__(self, tokens: list[tuple[str, str]], query: str, fake: FakeX) -> None:
        self.tokens = tokens
        self.query = query
        self.fake = fake
        self.index = 0

    def parse(self) -> _Predicate | None:
        if not self.tokens:
            raise _query_error(self.query, "Empty query")
        node = self._or()
        if self.index != len(self.tokens):
            raise _query_error(self.query, "Unbalanced parentheses")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _or(self) -> _Predicate | None:
        parts = [self._and()]
        while self._peek() == ("word", "OR"):
            self.index += 1
            parts.append(self._and())
        kept = [part for part in parts if part is not None]
        if not kept:
            return None
        if len(kept) == 1:
            return kept[0]
        return lambda tweet: any(part(tweet) for part in kept)

    def _and(self) -> _Predicate | None:
        parts: list[_Predicate | None] = []
        while True:
            token = self._peek()
            if token is None or token[0] == "close" or token == ("word", "OR"):
                break
            parts.append(self._unary())
        if not parts:
            raise _query_error(self.query, "Ambiguous use of OR or empty group")
        kept = [part for part in parts if part is not None]
        if not kept:
            return None
        if len(kept) == 1:
            return kept[0]
        return lambda tweet: all(part(tweet) for part in kept)

    def _unary(self) -> _Predicate | None:
        token = self._peek()
        assert token is not None
        kind, value = token
        self.index += 1
        if kind == "neg":
            negated = self._unary()
            if negated is None:
                return None
            return lambda tweet: not negated(tweet)
        if kind == "open":
            group = self._or()
            if self._peek() != ("close", ")"):
                raise _query_error(self.query, "Unbalanced parentheses")
            self.index += 1
            return group
        if kind == "phrase":
            return _text_matcher(value)
        if kind == "word":
            operator = _OPERATOR.fullmatch(value)
            if operator is not None:
                return self._operator(operator["name"].lower(), operator["value"].strip('"'))
            return _text_matcher(value)
        raise _query_error(self.query, "Unbalanced parentheses")

    def _operator(self, name: str, value: str) -> _Predicate | None:
        if name == "lang":
            lang = value.lower()
            return lambda tweet: tweet.lang.lower() == lang
        if name == "from":
            user = self.fake._user_by_username(value)
            author_id = user.id if user is not None else None
            return lambda tweet: tweet.author_id == author_id
        if name == "is" and value.lower() == "reply":
            return lambda tweet: tweet.in_reply_to is not None
        if name == "is" and value.lower() in ("retweet", "quote"):
            return lambda tweet: False
        return None


def _text_matcher(term: str) -> _Predicate:
    words = term.split()
    if not words:
        return lambda tweet: True
    body = r"\s+".join(re.escape(word) for word in words)
    pattern = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
    return lambda tweet: pattern.search(tweet.text) is not None


# -- images --------------------------------------------------------------------------------


def _image_info(data: bytes) -> tuple[str, int, int] | None:
    """Type and size from the file header, as X reports them; ``None`` when not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
        return ("image/jpeg", *size) if size is not None else None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return "image/webp", width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "image/webp", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk JPEG segments to the first start-of-frame marker, which holds the dimensions."""
    index = 2
    while index + 9 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None
