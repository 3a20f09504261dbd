"""A local fake of the Bot Framework Connector REST API, the service Teams' ``serviceUrl`` names.

Why a server rather than a mock: a Teams bot never answers a message in the HTTP response to
``/api/messages``; it calls back into the Connector at the ``serviceUrl`` the inbound activity
carried. Tests post real Activity JSON whose ``serviceUrl`` is ``FakeConnector.service_url``, so
the Microsoft 365 Agents SDK builds its own connector client, serialises activities and
interprets status codes exactly as it does against ``smba.trafficmanager.net``. A test failure
then means the bot would fail in production too, not that a mock drifted from the SDK.

The fake is deliberately shallow: it answers the conversation endpoints a bot uses with
realistic shapes, records every request for assertions, and lets a test script failures
(``fail_next``). It keeps no message store; tests assert on ``calls``, ``sent()`` and
``updated()``.

The module also builds inbound activities (``message_activity``, ``invoke_action_activity``,
``reaction_activity``) shaped like what Teams posts to a bot, so tests exercise the same parsing
paths real traffic does (mention markup, ``channelData``, the HTML attachment Teams adds).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.hosting.core.authorization.authentication_constants import (
    AuthenticationConstants,
)
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator

from tests.fakes.server import FakeServer

# Activity ids the fake hands out look like Teams message ids (epoch milliseconds) and increase,
# so a test can tell which of two messages came first.
ACTIVITY_ID_BASE = 1_700_000_000_000

# Inbound message ids come from a different range, so a test never confuses an id it posted to
# the bot with one the fake issued for the bot's reply.
_INBOUND_ID_BASE = 1_600_000_000_000
_inbound_ids = itertools.count(_INBOUND_ID_BASE + 1)

# Error codes the real service uses in ``{"error": {"code": ..., "message": ...}}`` bodies.
_ERROR_CODES: dict[int, str] = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "ServiceError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

DEFAULT_TENANT_ID = "tenant-1"


@dataclass
class ConnectorCall:
    """One request the fake received, as a test wants to assert on it.

    Ids are percent-decoded from the path, so assertions use the ids Teams shows
    (``19:abc@thread.tacv2``) whether or not the client encoded them. ``status`` is what the
    fake answered, so a test can tell a delivered activity from one ``fail_next`` rejected;
    ``query`` keeps flags such as ``isTargetedActivity`` that the SDK sends as parameters.
    """

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any] | None
    authorization: str | None
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)


class _ConnectorError(Exception):
    """Raised inside handlers to answer with the service's error body and ``status``."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _ERROR_CODES.get(status, "ServiceError")


def default_members(tenant_id: str = DEFAULT_TENANT_ID) -> list[dict[str, Any]]:
    """The roster the fake reports; Alice matches the default sender of ``message_activity``."""
    return [
        {
            "id": "29:user-alice",
            "name": "Alice",
            "aadObjectId": "00000000-0000-0000-0000-00000000a11c",
            "givenName": "Alice",
            "surname": "Example",
            "email": "alice@contoso.example",
            "userPrincipalName": "alice@contoso.example",
            "tenantId": tenant_id,
            "userRole": "user",
        },
        {
            "id": "29:user-bob",
            "name": "Bob",
            "aadObjectId": "00000000-0000-0000-0000-000000000b0b",
            "givenName": "Bob",
            "surname": "Example",
            "email": "bob@contoso.example",
            "userPrincipalName": "bob@contoso.example",
            "tenantId": tenant_id,
            "userRole": "user",
        },
    ]


class FakeConnector(FakeServer):
    """Starts on 127.0.0.1 on a free port.

    Use as ``async with FakeConnector() as connector:`` and put ``connector.service_url`` in
    the ``serviceUrl`` of activities posted to the bot. A free port per instance lets tests run
    in parallel. ``members`` is the roster the member endpoints report; tests may replace it.
    """

    def __init__(self, *, tenant_id: str = DEFAULT_TENANT_ID) -> None:
        super().__init__()
        self.calls: list[ConnectorCall] = []
        self.members: list[dict[str, Any]] = default_members(tenant_id)
        self._activity_ids = itertools.count(ACTIVITY_ID_BASE + 1)
        self._conversation_numbers = itertools.count(1)
        self._failures: deque[int] = deque()
        self._update_failures: deque[int] = deque()
        # The sends and replies among ``calls``, told apart once from the parsed path.
        self._activity_posts: list[ConnectorCall] = []
        # Replaced on every change; waiters grab the current one and wake when it is set.
        self._changed = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        # One catch-all route: ids are split out of the raw path by hand, because an id with an
        # encoded "/" must stay one segment and unknown paths must still be recorded.
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    @property
    def service_url(self) -> str:
        """``http://127.0.0.1:PORT/``, with the trailing slash Teams' ``serviceUrl`` has."""
        return f"http://{self.host}/"

    # -- test controls ---------------------------------------------------------------------

    def sent(self) -> list[dict[str, Any]]:
        """Bodies of the activities the service accepted (new messages and replies), in order.

        Requests ``fail_next`` rejected are left out (they remain in ``calls``), so a test of
        retry behaviour sees each delivered message once.
        """
        return [
            call.body for call in self._activity_posts if _ok(call.status) and call.body is not None
        ]

    def updated(self) -> list[ConnectorCall]:
        """The accepted ``PUT .../activities/{id}`` calls, i.e. edits such as card refreshes."""
        return [
            call
            for call in self.calls
            if call.method == "PUT" and call.activity_id is not None and _ok(call.status)
        ]

    async def wait_for_sent(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see _wait_until
    ) -> list[dict[str, Any]]:
        """Wait for activities sent by the bot's turn or background work instead of sleeping."""
        await self._wait_until(
            lambda: len(self.sent()) >= count,
            timeout,
            lambda: (
                f"expected at least {count} sent activit(ies) within {timeout}s, "
                f"got {len(self.sent())}; calls so far: {self._describe_calls()}"
            ),
        )
        return self.sent()

    async def wait_for_updates(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see _wait_until
    ) -> list[ConnectorCall]:
        """Wait for activity updates (PUTs), e.g. a card replaced after an approval."""
        await self._wait_until(
            lambda: len(self.updated()) >= count,
            timeout,
            lambda: (
                f"expected at least {count} activity update(s) within {timeout}s, "
                f"got {len(self.updated())}; calls so far: {self._describe_calls()}"
            ),
        )
        return self.updated()

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Make the next ``times`` activity POSTs (sends and replies) answer ``status``.

        The body is the service's ``{"error": {"code", "message"}}`` shape; a 429 also carries
        ``Retry-After`` as Teams does when throttling a bot.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next needs an error status, got {status}")
        self._failures.extend([status] * times)

    def fail_next_update(self, status: int = 500, times: int = 1) -> None:
        """Make the next ``times`` activity updates (``PUT .../activities/{id}``) answer ``status``,
        as Teams does when a card cannot be replaced (deleted message, throttling, outage)."""
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next_update needs an error status, got {status}")
        self._update_failures.extend([status] * times)

    # -- plumbing --------------------------------------------------------------------------

    def _describe_calls(self) -> list[str]:
        return [f"{call.method} {call.path} -> {call.status}" for call in self.calls]

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(
        self, predicate: Callable[[], bool], seconds: float, describe: Callable[[], str]
    ) -> None:
        """Wait for a condition, failing the test with ``describe()`` instead of hanging.

        The public waiters take a ``timeout`` argument (ruff's ASYNC109 prefers callers wrap
        ``asyncio.timeout``) because a test wants an AssertionError saying what was missing,
        not a bare TimeoutError, and a bounded default so a broken test never hangs CI.
        """
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(describe()) from None

    def _next_activity_id(self) -> str:
        return str(next(self._activity_ids))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Every request: parse ids and body, answer, and record before the client sees it.

        Recording happens after the answer is decided (so ``status`` is known) but before it is
        returned, so a test that awaited the SDK call always finds the call in ``calls``.
        """
        segments = [unquote(part) for part in request.rel_url.raw_path.split("/")[1:]]
        if len(segments) > 1 and segments[-1] == "":
            segments.pop()  # tolerate a trailing slash
        conversation_id, activity_id = _ids_from(segments)
        call = ConnectorCall(
            method=request.method,
            path=request.path,
            conversation_id=conversation_id,
            activity_id=activity_id,
            body=None,
            authorization=request.headers.get("Authorization"),
            query=dict(request.query),
        )
        try:
            call.body = await _read_body(request)
            response = self._route(call, segments)
        except _ConnectorError as exc:
            response = _error(exc.status, exc.code, exc.message)
        call.status = response.status
        self.calls.append(call)
        if _is_activity_post(call.method, segments):
            self._activity_posts.append(call)
        self._notify()
        return response

    def _route(self, call: ConnectorCall, segments: list[str]) -> web.Response:
        method = call.method
        if segments[:2] != ["v3", "conversations"]:
            raise _ConnectorError(404, f"Unknown resource: {method} {call.path}")
        rest = segments[2:]
        if rest == [] and method == "POST":
            return self._create_conversation(call)
        if _is_activity_post(method, segments):
            return self._post_activity(call)
        if len(rest) == 3 and rest[1] == "activities" and rest[2] != "history":
            if method == "PUT":
                return self._update_activity(call)
            if method == "DELETE":
                return web.Response(status=200)
        if method == "GET" and len(rest) == 2 and rest[1] == "members":
            return web.json_response(self.members)
        if method == "GET" and len(rest) == 2 and rest[1].lower() == "pagedmembers":
            return self._paged_members(call)
        if method == "GET" and len(rest) == 3 and rest[1] == "members":
            return self._member(rest[2])
        raise _ConnectorError(404, f"Unknown resource: {method} {call.path}")

    def _post_activity(self, call: ConnectorCall) -> web.Response:
        """A new message or a reply: scripted failure first, then a fresh increasing id."""
        if self._failures:
            status = self._failures.popleft()
            response = _error(status, _ERROR_CODES.get(status, "ServiceError"), "Scripted failure")
            if status == 429:
                response.headers["Retry-After"] = "1"
            return response
        _require_activity(call.body)
        return web.json_response({"id": self._next_activity_id()}, status=201)

    def _update_activity(self, call: ConnectorCall) -> web.Response:
        if self._update_failures:
            status = self._update_failures.popleft()
            return _error(status, _ERROR_CODES.get(status, "ServiceError"), "Scripted failure")
        _require_activity(call.body)
        return web.json_response({"id": call.activity_id})

    def _create_conversation(self, call: ConnectorCall) -> web.Response:
        if call.body is None:
            raise _ConnectorError(400, "Conversation parameters are required")
        number = next(self._conversation_numbers)
        return web.json_response(
            {
                "id": f"a:new-conversation-{number}",
                "activityId": self._next_activity_id(),
                "serviceUrl": self.service_url,
            },
            status=201,
        )

    def _paged_members(self, call: ConnectorCall) -> web.Response:
        """Page through ``members`` the way the service does: an opaque token until the end."""
        try:
            page_size = int(call.query.get("pageSize") or 200)
            start = int(call.query.get("continuationToken") or 0)
        except ValueError:
            raise _ConnectorError(400, "Invalid pageSize or continuationToken") from None
        if page_size < 1 or start < 0:
            raise _ConnectorError(400, "Invalid pageSize or continuationToken")
        end = start + page_size
        body: dict[str, Any] = {"members": self.members[start:end]}
        if end < len(self.members):
            body["continuationToken"] = str(end)
        return web.json_response(body)

    def _member(self, user_id: str) -> web.Response:
        """Teams looks a member up by channel id (29:...) or by AAD object id."""
        for member in self.members:
            if user_id in (member.get("id"), member.get("aadObjectId")):
                return web.json_response(member)
        raise _ConnectorError(
            404, "The member could not be found in the conversation", "MemberNotFoundInConversation"
        )


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _is_activity_post(method: str, segments: list[str]) -> bool:
    """A send (``.../activities``) or a reply (``.../activities/{id}``), not history or create."""
    if method != "POST" or segments[:2] != ["v3", "conversations"]:
        return False
    rest = segments[2:]
    if len(rest) == 2:
        return rest[1] == "activities"
    return len(rest) == 3 and rest[1] == "activities" and rest[2] != "history"


def _ids_from(segments: list[str]) -> tuple[str | None, str | None]:
    """``/v3/conversations/{conversation}/activities/{activity}/...`` -> the two decoded ids."""
    if len(segments) < 3 or segments[:2] != ["v3", "conversations"]:
        return None, None
    activity_id = None
    if len(segments) >= 5 and segments[3] == "activities" and segments[4] != "history":
        activity_id = segments[4]
    return segments[2], activity_id


async def _read_body(request: web.Request) -> dict[str, Any] | None:
    """Parse a JSON object body; anything else is a 400 like the real service answers."""
    if not request.can_read_body:
        return None
    raw = await request.text()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise _ConnectorError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _ConnectorError(400, "The request body must be a JSON object")
    return body


def _require_activity(body: dict[str, Any] | None) -> None:
    if body is None or not body.get("type"):
        raise _ConnectorError(400, "Activity type is required")


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


# -- inbound activities ---------------------------------------------------------------------


def _now() -> str:
    """Teams timestamps: UTC, millisecond precision, ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _base_activity(
    activity_type: str,
    activity_id: str,
    *,
    service_url: str,
    conversation_id: str,
    conversation_type: str,
    user_id: str,
    aad_object_id: str | None,
    user_name: str,
    bot_id: str,
    bot_name: str,
    team_id: str | None,
    tenant_id: str,
    reply_to_id: str | None,
) -> dict[str, Any]:
    """The envelope every Teams activity shares: identities, conversation and channelData."""
    sender: dict[str, Any] = {"id": user_id, "name": user_name}
    if aad_object_id is not None:
        sender["aadObjectId"] = aad_object_id
    conversation: dict[str, Any] = {
        "id": conversation_id,
        "conversationType": conversation_type,
        "tenantId": tenant_id,
    }
    if conversation_type in ("channel", "groupChat"):
        conversation["isGroup"] = True
    channel_data: dict[str, Any] = {"tenant": {"id": tenant_id}}
    if conversation_type == "channel":
        if team_id is not None:
            channel_data["team"] = {"id": team_id}
        # A thread's conversation id is "<channel id>;messageid=<root>"; the channel is the head.
        channel_data["channel"] = {"id": conversation_id.split(";", 1)[0]}
    activity: dict[str, Any] = {
        "type": activity_type,
        "id": activity_id,
        "timestamp": _now(),
        "localTimestamp": _now(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": conversation,
        "recipient": {"id": bot_id, "name": bot_name},
        "locale": "en-US",
        "channelData": channel_data,
    }
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def message_activity(
    text: str,
    *,
    service_url: str,
    conversation_id: str = "19:channel1@thread.tacv2",
    conversation_type: str = "channel",
    user_id: str = "29:user-alice",
    aad_object_id: str | None = "00000000-0000-0000-0000-00000000a11c",
    user_name: str = "Alice",
    bot_id: str = "28:bot-id",
    bot_name: str = "chatops",
    mention_bot: bool = True,
    team_id: str | None = "19:team1@thread.tacv2",
    tenant_id: str = DEFAULT_TENANT_ID,
    reply_to_id: str | None = None,
) -> dict[str, Any]:
    """A message as Teams delivers it, mention markup included.

    Channel messages reach a bot only when it is @-mentioned, so by default the text starts
    with ``<at>bot</at>`` and carries the mention entity the SDK strips it with. Teams also
    attaches the rendered HTML of every channel message; it is included because bots that treat
    all attachments as user files trip over it in production.
    """
    mention = f"<at>{bot_name}</at>"
    full_text = f"{mention} {text}" if mention_bot else text
    activity = _base_activity(
        "message",
        str(next(_inbound_ids)),
        service_url=service_url,
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        bot_id=bot_id,
        bot_name=bot_name,
        team_id=team_id,
        tenant_id=tenant_id,
        reply_to_id=reply_to_id,
    )
    entities: list[dict[str, Any]] = []
    if mention_bot:
        entities.append(
            {"type": "mention", "text": mention, "mentioned": {"id": bot_id, "name": bot_name}}
        )
    entities.append(
        {
            "type": "clientInfo",
            "locale": "en-US",
            "country": "US",
            "platform": "Web",
            "timezone": "Europe/London",
        }
    )
    activity.update(
        {
            "text": full_text,
            "textFormat": "plain",
            "entities": entities,
        }
    )
    if conversation_type == "channel":
        activity["attachments"] = [
            {"contentType": "text/html", "content": f"<p>{full_text}</p>"},
        ]
    return activity


def invoke_action_activity(
    verb: str,
    data: dict[str, Any],
    *,
    service_url: str,
    reply_to_id: str,
    conversation_id: str = "19:channel1@thread.tacv2",
    conversation_type: str = "channel",
    user_id: str = "29:user-alice",
    aad_object_id: str | None = "00000000-0000-0000-0000-00000000a11c",
    user_name: str = "Alice",
    bot_id: str = "28:bot-id",
    bot_name: str = "chatops",
    team_id: str | None = "19:team1@thread.tacv2",
    tenant_id: str = DEFAULT_TENANT_ID,
) -> dict[str, Any]:
    """An Adaptive Card ``Action.Execute`` click (Universal Actions).

    The bot must answer it in the HTTP response (an invoke response), not via the connector;
    ``replyToId`` is the card's activity id, which is how the bot knows which card to update.
    """
    activity = _base_activity(
        "invoke",
        f"f:{uuid.uuid4()}",
        service_url=service_url,
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        bot_id=bot_id,
        bot_name=bot_name,
        team_id=team_id,
        tenant_id=tenant_id,
        reply_to_id=reply_to_id,
    )
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": data},
        "trigger": "manual",
    }
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def reaction_activity(
    reactions: list[str],
    *,
    added: bool,
    service_url: str,
    reply_to_id: str,
    conversation_id: str = "19:channel1@thread.tacv2",
    conversation_type: str = "channel",
    user_id: str = "29:user-alice",
    aad_object_id: str | None = "00000000-0000-0000-0000-00000000a11c",
    user_name: str = "Alice",
    bot_id: str = "28:bot-id",
    bot_name: str = "chatops",
    team_id: str | None = "19:team1@thread.tacv2",
    tenant_id: str = DEFAULT_TENANT_ID,
) -> dict[str, Any]:
    """Reactions (``like``, ``heart``...) added to or removed from one of the bot's messages.

    ``replyToId`` names the reacted message, so it is required: a reaction without it cannot
    be tied to anything the bot posted.
    """
    activity = _base_activity(
        "messageReaction",
        f"f:{uuid.uuid4()}",
        service_url=service_url,
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        bot_id=bot_id,
        bot_name=bot_name,
        team_id=team_id,
        tenant_id=tenant_id,
        reply_to_id=reply_to_id,
    )
    key = "reactionsAdded" if added else "reactionsRemoved"
    activity[key] = [{"type": reaction} for reaction in reactions]
    return activity


# -- tokens ---------------------------------------------------------------------------------


BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


class FakeBotFrameworkKeys(FakeServer):
    """The Bot Framework's token signing keys, served locally, and tokens signed with them.

    The Bot Connector calls a bot with an RS256 JWT (issuer ``https://api.botframework.com``,
    audience the bot's app id, and a ``serviceurl`` claim naming the connector it speaks for);
    the bot checks the signature against the keys published at
    ``login.botframework.com/v1/.well-known/keys``. This fake publishes its own key set in the
    same JWKS shape and signs tokens with the same claims, so the SDK's own validator accepts
    them once ``trusted()`` points its key lookup here.
    """

    def __init__(self) -> None:
        super().__init__()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"fake-{uuid.uuid4().hex[:8]}"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/.well-known/keys", self._keys)

    @property
    def jwks_url(self) -> str:
        return f"http://{self.host}/v1/.well-known/keys"

    def token(self, *, app_id: str, service_url: str, **claims: Any) -> str:
        now = int(datetime.now(UTC).timestamp())
        payload: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    @contextlib.contextmanager
    def trusted(self) -> Iterator[None]:
        """Make the Agents SDK fetch the Bot Framework's keys from this fake.

        The SDK has no setting for where it looks the keys up (the address is a constant), so
        this is the one place a test reaches into it: its cache of key clients, by address, gets
        a client for this server under the real address, and is restored afterwards.
        """
        cache = jwt_token_validator.JwtTokenValidator._jwk_client_manager._cache
        address = AuthenticationConstants.PUBLIC_ABS_JWKS_URL
        previous = cache.get(address)
        cache[address] = jwt_token_validator._JwkClientCacheEntry(
            jwt.PyJWKClient(self.jwks_url), threading.Lock()
        )
        try:
            yield
        finally:
            if previous is None:
                cache.pop(address, None)
            else:
                cache[address] = previous

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [jwk]})


def submit_action_activity(
    data: dict[str, Any],
    *,
    service_url: str,
    reply_to_id: str,
    user_id: str = "29:user-alice",
    aad_object_id: str | None = "00000000-0000-0000-0000-00000000a11c",
    user_name: str = "Alice",
    conversation_id: str = "19:channel1@thread.tacv2",
) -> dict[str, Any]:
    """An Adaptive Card ``Action.Submit`` click, as clients without Universal Actions send one:
    a message with no text whose ``value`` is the action's data merged with the card's inputs,
    in reply to the card."""
    activity = _base_activity(
        "message",
        str(next(_inbound_ids)),
        service_url=service_url,
        conversation_id=conversation_id,
        conversation_type="channel",
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        bot_id="28:bot-id",
        bot_name="chatops",
        team_id="19:team1@thread.tacv2",
        tenant_id=DEFAULT_TENANT_ID,
        reply_to_id=reply_to_id,
    )
    activity["value"] = dict(data)
    return activity
