"""A local fake of the Slack Web API and Socket Mode that speaks Slack's real HTTP protocol.

Why a server rather than a mock: tests point the real ``slack_sdk`` ``AsyncWebClient`` (and
slack-bolt's ``AsyncApp``, which uses it) at ``FakeSlack.base_url``. Request encoding (JSON vs
form bodies, bearer vs basic auth), response validation, ``SlackApiError``, retry handlers and
Socket Mode reconnects then run exactly as they do against slack.com, so a test failure means
our code would fail in production too, not that a mock drifted from the SDK.

The fake is deliberately shallow: it answers the methods the bot uses with realistic shapes,
records every call for assertions, and lets a test script failures (``fail``) and rate limits
(``rate_limit``). It keeps no message store; tests assert on ``calls``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes.server import FakeServer

# Form-encoded requests carry structured arguments as JSON strings (that is how Slack accepts
# them); they are decoded so tests can assert on Python objects whatever the transport was.
JSON_STRING_ARGS = frozenset(
    {
        "attachments",
        "blocks",
        "metadata",
        "unfurls",
        "user_auth_blocks",
        "view",
    }
)

# Methods that authenticate with client credentials instead of a bearer token.
CLIENT_CREDENTIAL_METHODS = frozenset({"oauth.v2.access"})

# Methods that only an app-level token (xapp-) may call; everything else rejects one.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

APP_ID = "A0001"

# A timestamp base in the past, so generated ts values look like real Slack message ids.
TS_EPOCH = 1_700_000_000

BOT_SCOPES = "app_mentions:read,channels:history,channels:read,chat:write,commands,reactions:write"


@dataclass
class SlackCall:
    """One request the fake received, as a test wants to assert on it.

    ``args`` merges query, JSON and form arguments, with JSON-string fields such as ``blocks``
    decoded, so an assertion does not depend on how the SDK chose to encode a method. The
    ``token`` argument is moved out of ``args`` into ``token``.
    """

    method: str
    args: dict[str, Any]
    token: str | None


@dataclass(frozen=True)
class _Identity:
    """Who a token belongs to, so ``auth.test`` and friends answer per installation."""

    kind: Literal["bot", "user", "app"]
    team_id: str
    team_name: str
    user_id: str
    user_name: str
    bot_id: str | None


@dataclass(frozen=True)
class _Scripted:
    """A canned answer queued by ``fail`` or ``rate_limit`` for the next call to a method."""

    status: int
    error: str
    retry_after: int | None = None


class _ApiError(Exception):
    """Raised inside handlers to answer ``{"ok": false, "error": ...}`` with HTTP 200."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


_Handler = Callable[[SlackCall, "_Identity | None"], Awaitable[dict[str, Any]]]


class FakeSlack(FakeServer):
    """Starts on 127.0.0.1 on a free port.

    Use as ``async with FakeSlack() as slack:`` and give ``slack.base_url`` to
    ``AsyncWebClient(base_url=...)``. A free port per instance lets tests run in parallel.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        app_token: str = "xapp-test",
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.app_token = app_token
        self.calls: list[SlackCall] = []
        self.member_channels: list[str] = ["C0001"]
        self.socket_connections = 0

        self._identities: dict[str, _Identity] = {
            bot_token: _Identity("bot", team_id, "Fake Team", bot_user_id, "chatops", "B0001"),
            app_token: _Identity("app", team_id, "Fake Team", bot_user_id, "chatops", None),
        }
        self._scripted: dict[str, deque[_Scripted]] = {}
        self._ts_counter = itertools.count(1)
        self._view_counter = itertools.count(1)
        self._install_counter = itertools.count(1)
        self._install_teams: dict[str, tuple[str, str, str]] = {}
        self._response_url_calls: dict[str, list[SlackCall]] = {}
        self._acks: list[dict[str, Any]] = []
        self._socket: web.WebSocketResponse | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        # Replaced on every change; waiters grab the current one and wake when it is set.
        self._changed = asyncio.Event()
        self._handlers: dict[str, _Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_change,
            "reactions.remove": self._reactions_change,
            "reactions.get": self._reactions_get,
            "users.conversations": self._users_conversations,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "apps.connections.open": self._apps_connections_open,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.uninstall": self._apps_uninstall,
        }

    # -- lifecycle -------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("GET", "/api/{method}", self._api)
        app.router.add_route("POST", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket_mode)

    async def close(self) -> None:
        """Close websockets first: an open one would otherwise hold up the shutdown."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY)
        await super().close()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``; only meaningful once started."""
        return f"http://{self.host}"

    @property
    def base_url(self) -> str:
        """The Web API root with the trailing slash the SDK needs to join method names."""
        return f"{self.root_url}/api/"

    @property
    def socket_url(self) -> str:
        """What ``apps.connections.open`` hands out (Slack's is a ``wss://`` URL)."""
        return f"ws://{self.host}/socket"

    # -- test controls ---------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        """The recorded calls to one method, in order."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see _wait_until
    ) -> list[SlackCall]:
        """Wait for calls made by background tasks (listeners, workers) instead of sleeping."""
        await self._wait_until(
            lambda: len(self.calls_to(method)) >= count,
            timeout,
            lambda: (
                f"expected at least {count} call(s) to {method} within {timeout}s, "
                f"got {len(self.calls_to(method))}; calls so far: "
                f"{[call.method for call in self.calls]}"
            ),
        )
        return self.calls_to(method)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` answer 429 as Slack does when throttling."""
        queue = self._scripted.setdefault(method, deque())
        queue.extend(_Scripted(429, "ratelimited", retry_after) for _ in range(times))

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` answer HTTP 200 with ``ok: false``."""
        queue = self._scripted.setdefault(method, deque())
        queue.extend(_Scripted(200, error) for _ in range(times))

    def install_into(self, code: str, team_id: str, team_name: str, bot_user_id: str) -> None:
        """Make the OAuth ``code`` install into ``team_id`` (by default codes install T0002)."""
        self._install_teams[code] = (team_id, team_name, bot_user_id)

    def response_url(self, name: str = "resp") -> str:
        """A URL that behaves like the ``response_url`` Slack puts in commands and actions."""
        return f"{self.root_url}/response/{quote(name, safe='')}"

    def responses_to(self, name: str = "resp") -> list[SlackCall]:
        """The POSTs one ``response_url(name)`` received, when a test hands out several."""
        return list(self._response_url_calls.get(name, []))

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Deliver an event/command/interaction envelope the way Slack pushes it."""
        ws = self._socket
        if ws is None or ws.closed:
            raise AssertionError("no Socket Mode client is connected to FakeSlack")
        await ws.send_json(envelope)

    async def socket_acks(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see _wait_until
    ) -> list[dict[str, Any]]:
        """Wait for envelope acknowledgements; Slack retries envelopes that are not acked."""
        await self._wait_until(
            lambda: len(self._acks) >= count,
            timeout,
            lambda: (
                f"expected at least {count} Socket Mode ack(s) within {timeout}s, "
                f"got {len(self._acks)}: {self._acks}"
            ),
        )
        return list(self._acks)

    async def socket_drop(self) -> None:
        """Close the live connection server-side, as Slack does routinely (e.g. every few hours)."""
        ws = self._socket
        if ws is None or ws.closed:
            raise AssertionError("no Socket Mode client is connected to FakeSlack")
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"refresh_requested")

    async def wait_for_socket(
        self,
        connections: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see _wait_until
    ) -> None:
        """Wait until a client has (re)connected, e.g. after ``socket_drop``."""
        await self._wait_until(
            lambda: self.socket_connections >= connections,
            timeout,
            lambda: (
                f"expected {connections} Socket Mode connection(s) within {timeout}s, "
                f"got {self.socket_connections}; apps.connections.open calls: "
                f"{len(self.calls_to('apps.connections.open'))}"
            ),
        )

    # -- plumbing --------------------------------------------------------------------------

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

    def _record(self, call: SlackCall) -> None:
        self.calls.append(call)
        self._notify()

    @staticmethod
    def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(body, status=status)

    async def _api(self, request: web.Request) -> web.Response:
        """Every Web API method: parse like Slack, record, then answer scripted or real."""
        method = request.match_info["method"]
        try:
            args = await _read_args(request)
        except _ApiError as exc:
            self._record(SlackCall(method, {}, _bearer_token(request)))
            return self._answer({"ok": False, "error": exc.error})

        token = _bearer_token(request)
        arg_token = args.pop("token", None)
        if token is None and isinstance(arg_token, str) and arg_token:
            token = arg_token
        if method in CLIENT_CREDENTIAL_METHODS:
            # The SDK sends client credentials as HTTP Basic auth; other clients as form args.
            basic = _basic_credentials(request)
            if basic is not None:
                args.setdefault("client_id", basic[0])
                args.setdefault("client_secret", basic[1])
        call = SlackCall(method=method, args=args, token=token)
        self._record(call)

        queue = self._scripted.get(method)
        if queue:
            scripted = queue.popleft()
            response = self._answer({"ok": False, "error": scripted.error}, scripted.status)
            if scripted.retry_after is not None:
                response.headers["Retry-After"] = str(scripted.retry_after)
            return response

        handler = self._handlers.get(method)
        if handler is None:
            return self._answer({"ok": False, "error": "unknown_method"})

        identity: _Identity | None = None
        if method not in CLIENT_CREDENTIAL_METHODS:
            if token is None:
                return self._answer({"ok": False, "error": "not_authed"})
            identity = self._identities.get(token)
            if identity is None:
                return self._answer({"ok": False, "error": "invalid_auth"})
            if (identity.kind == "app") != (method in APP_TOKEN_METHODS):
                return self._answer({"ok": False, "error": "not_allowed_token_type"})

        try:
            body = await handler(call, identity)
        except _ApiError as exc:
            return self._answer({"ok": False, "error": exc.error})
        return self._answer({"ok": True, **body})

    async def _response_url(self, request: web.Request) -> web.Response:
        """Slack's response_url: JSON in, ``{"ok": true}`` out."""
        name = request.match_info["name"]
        raw = await request.text()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        valid = isinstance(body, dict)
        call = SlackCall("response_url", body if valid else {"_invalid_body": raw}, None)
        self._response_url_calls.setdefault(name, []).append(call)
        self._record(call)
        if not valid:
            return self._answer({"ok": False, "error": "invalid_payload"}, status=400)
        return self._answer({"ok": True})

    async def _socket_mode(self, request: web.Request) -> web.StreamResponse:
        """One Socket Mode connection: hello, then collect acks until either side closes."""
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            # Hello goes out before the connection is announced, so a test that waited for the
            # socket and then sends an envelope can never overtake it.
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake"},
                    "connection_info": {"app_id": APP_ID},
                }
            )
            self._socket = ws
            self.socket_connections += 1
            self._notify()
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                except json.JSONDecodeError:
                    continue
                if isinstance(data, dict) and "envelope_id" in data:
                    self._acks.append(data)
                    self._notify()
        except ConnectionError:
            # A client that vanishes mid-conversation is normal for Socket Mode.
            pass
        finally:
            self._sockets.discard(ws)
            if self._socket is ws:
                self._socket = None
            self._notify()
        return ws

    # -- Web API methods -------------------------------------------------------------------

    def _next_ts(self) -> str:
        """Unique, increasing message timestamps in Slack's ``seconds.micros`` format."""
        micros = next(self._ts_counter) * 100
        return f"{TS_EPOCH + micros // 1_000_000}.{micros % 1_000_000:06d}"

    async def _auth_test(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        assert who is not None
        body: dict[str, Any] = {
            "url": f"https://{who.team_name.lower().replace(' ', '-')}.slack.com/",
            "team": who.team_name,
            "user": who.user_name,
            "team_id": who.team_id,
            "user_id": who.user_id,
            "is_enterprise_install": False,
        }
        if who.bot_id is not None:
            body["bot_id"] = who.bot_id
        return body

    async def _chat_post_message(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        assert who is not None
        channel = _required(call, "channel", "channel_not_found")
        if not any(call.args.get(key) for key in ("text", "blocks", "attachments")):
            raise _ApiError("no_text")
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "text": call.args.get("text", ""),
            "blocks": call.args.get("blocks", []),
            "user": who.user_id,
            "team": who.team_id,
            "ts": ts,
        }
        if who.bot_id is not None:
            message["bot_id"] = who.bot_id
        if call.args.get("thread_ts"):
            message["thread_ts"] = call.args["thread_ts"]
        return {"channel": channel, "ts": ts, "message": message}

    async def _chat_update(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        channel = _required(call, "channel", "channel_not_found")
        ts = _required(call, "ts", "message_not_found")
        text = call.args.get("text", "")
        message: dict[str, Any] = {"type": "message", "text": text, "ts": ts}
        if "blocks" in call.args:
            message["blocks"] = call.args["blocks"]
        return {"channel": channel, "ts": ts, "text": text, "message": message}

    async def _chat_post_ephemeral(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        _required(call, "channel", "channel_not_found")
        _required(call, "user", "user_not_found")
        return {"message_ts": self._next_ts()}

    def _view(self, who: _Identity | None, view: Any, view_id: str | None) -> dict[str, Any]:
        """Echo the view back with the server-side fields Slack adds (id, hash, state...)."""
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        number = next(self._view_counter)
        view_id = view_id or f"V{number:08d}"
        return {
            "view": {
                **view,
                "id": view_id,
                "team_id": who.team_id if who else self.team_id,
                "app_id": APP_ID,
                "bot_id": who.bot_id if who else None,
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
                "state": {"values": {}},
                "hash": f"{TS_EPOCH + number}.{number:08x}",
                "root_view_id": view_id,
                "previous_view_id": None,
            }
        }

    async def _views_open(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        if not call.args.get("trigger_id") and not call.args.get("interactivity_pointer"):
            raise _ApiError("invalid_arguments")
        return self._view(who, call.args.get("view"), None)

    async def _views_update(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        if not call.args.get("view_id") and not call.args.get("external_id"):
            raise _ApiError("invalid_arguments")
        return self._view(who, call.args.get("view"), call.args.get("view_id"))

    async def _views_publish(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        _required(call, "user_id", "invalid_arguments")
        return self._view(who, call.args.get("view"), None)

    async def _reactions_change(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        _required(call, "channel", "channel_not_found")
        _required(call, "timestamp", "message_not_found")
        _required(call, "name", "invalid_name")
        return {}

    async def _reactions_get(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        channel = _required(call, "channel", "channel_not_found")
        ts = _required(call, "timestamp", "message_not_found")
        return {
            "type": "message",
            "channel": channel,
            "message": {"type": "message", "text": "", "ts": ts},
        }

    async def _users_conversations(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        channels = [
            {"id": c, "name": c.lower(), "is_channel": True, "is_member": True}
            for c in self.member_channels
        ]
        return {"channels": channels, "response_metadata": {"next_cursor": ""}}

    async def _users_info(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        user = _required(call, "user", "user_not_found")
        name = user.lower()
        return {
            "user": {
                "id": user,
                "team_id": who.team_id if who else self.team_id,
                "name": name,
                "real_name": f"User {user}",
                "is_bot": False,
                "profile": {"display_name": name, "real_name": f"User {user}"},
            }
        }

    async def _conversations_info(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        channel = _required(call, "channel", "channel_not_found")
        return {
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": True,
                "is_member": True,
                "is_archived": False,
            }
        }

    async def _apps_connections_open(
        self, call: SlackCall, who: _Identity | None
    ) -> dict[str, Any]:
        return {"url": self.socket_url}

    async def _oauth_v2_access(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        """Install into a workspace (T0002 unless ``install_into`` named another for the code);
        the issued tokens then work like the bot token."""
        _required(call, "client_id", "invalid_client_id")
        _required(call, "client_secret", "bad_client_secret")
        code = _required(call, "code", "invalid_code")
        team_id, team_name, bot_user = self._install_teams.get(
            code, ("T0002", "Second Team", "UBOT2")
        )
        number = next(self._install_counter)
        bot_token = f"xoxb-fake-{team_id}-{number:04d}"
        user_token = f"xoxp-fake-{team_id}-{number:04d}"
        self._identities[bot_token] = _Identity(
            "bot", team_id, team_name, bot_user, "chatops", f"B{team_id}"
        )
        self._identities[user_token] = _Identity(
            "user", team_id, team_name, "UINSTALLER", "installer", None
        )
        return {
            "app_id": APP_ID,
            "authed_user": {
                "id": "UINSTALLER",
                "scope": "identify",
                "access_token": user_token,
                "token_type": "user",
            },
            "scope": BOT_SCOPES,
            "token_type": "bot",
            "access_token": bot_token,
            "bot_user_id": bot_user,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    async def _apps_uninstall(self, call: SlackCall, who: _Identity | None) -> dict[str, Any]:
        """Remove the app from the token's workspace: every token issued there stops working."""
        _required(call, "client_id", "invalid_client_id")
        _required(call, "client_secret", "bad_client_secret")
        if who is None:
            raise _ApiError("invalid_auth")
        for token, identity in list(self._identities.items()):
            if identity.team_id == who.team_id and identity.kind != "app":
                del self._identities[token]
        return {}


def _required(call: SlackCall, name: str, error: str) -> str:
    """Slack answers a missing argument with a method-specific error, not a 400."""
    value = call.args.get(name)
    if value is None or value == "":
        raise _ApiError(error)
    return str(value)


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return None


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep else None


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Merge query string and body the way Slack does (the SDK sends some POSTs as query)."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except json.JSONDecodeError:
                raise _ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise _ApiError("invalid_json")
            args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                args[key] = value.file.read() if isinstance(value, web.FileField) else value
        else:
            raise _ApiError("invalid_form_data")
    for key in JSON_STRING_ARGS & args.keys():
        value = args[key]
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(value)
    return args
