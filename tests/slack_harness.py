"""Drives the real bolt app inside `chatops serve`'s aiohttp application, signing every
request exactly as Slack does, against the fake Slack Web API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from adapters.chat.web.app import build_web_app
from chatops.runtime.clock import Clock
from chatops.service import Service, build_service
from tests.fakes.slack import FakeSlack
from tests.harness import make_settings

SIGNING_SECRET = "test-signing-secret-8f1c"
TEAM = "T0001"
CHANNEL = "C0001"
AUTHOR = "UAUTHOR01"
APPROVER = "UAPPROVE1"
APPROVER_2 = "UAPPROVE2"
ADMIN = "UADMIN001"
STRANGER = "USTRANGE1"


def signature(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackDriver:
    """One workspace, one channel, signed requests in, recorded Web API calls out."""

    def __init__(
        self,
        fake: FakeSlack,
        service: Service,
        client: TestClient[Any, Any],
        *,
        team: str = TEAM,
        channel: str = CHANNEL,
    ) -> None:
        self.fake = fake
        self.service = service
        self.client = client
        self.team = team
        self.channel = channel
        self._ids = itertools.count(1)

    def elsewhere(self, team: str, channel: str) -> SlackDriver:
        """The same app, driven from another workspace's channel (with the same id counter,
        so event ids stay unique and none is taken for a redelivery)."""
        driver = SlackDriver(self.fake, self.service, self.client, team=team, channel=channel)
        driver._ids = self._ids
        return driver

    @classmethod
    async def start(
        cls, fake: FakeSlack, database_url: str, *, clock: Clock | None = None, **settings: Any
    ) -> SlackDriver:
        defaults: dict[str, Any] = {
            "slack_bot_token": fake.bot_token,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_base_url": fake.base_url,
            "approvers": (APPROVER, APPROVER_2),
            "admins": (ADMIN,),
        }
        defaults.update(settings)
        service = build_service(make_settings(database_url, **defaults), clock=clock)
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        return cls(fake, service, client)

    async def close(self) -> None:
        await self.client.close()
        await self.service.close()

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: str | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        stamp = timestamp or str(int(time.time()))
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(body, stamp, secret),
            **(headers or {}),
        }
        return await self.client.post("/slack/events", data=body.encode(), headers=all_headers)

    async def command(
        self, command: str, text: str, user: str = AUTHOR, **overrides: str
    ) -> ClientResponse:
        form = {
            "token": "legacy",
            "team_id": self.team,
            "team_domain": "agency",
            "channel_id": self.channel,
            "channel_name": "comms",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": self.fake.response_url(f"cmd{next(self._ids)}"),
            "trigger_id": f"trigger.{next(self._ids)}",
            **overrides,
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def click(
        self, action_id: str, value: str, user: str, message_ts: str = ""
    ) -> ClientResponse:
        return await self.interact(
            {
                "type": "block_actions",
                "team": {"id": self.team, "domain": "agency"},
                "user": {"id": user, "username": user.lower(), "team_id": self.team},
                "api_app_id": "A0001",
                "channel": {"id": self.channel, "name": "comms"},
                "container": {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": self.channel,
                },
                "message": {"ts": message_ts, "type": "message"},
                "trigger_id": f"trigger.{next(self._ids)}",
                "response_url": self.fake.response_url(f"act{next(self._ids)}"),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "b",
                        "value": value,
                        "action_ts": str(time.time()),
                    }
                ],
            }
        )

    async def submit(
        self, callback_id: str, metadata: dict[str, Any], text: str, user: str
    ) -> ClientResponse:
        return await self.interact(
            {
                "type": "view_submission",
                "team": {"id": self.team, "domain": "agency"},
                "user": {"id": user, "username": user.lower(), "team_id": self.team},
                "api_app_id": "A0001",
                "trigger_id": f"trigger.{next(self._ids)}",
                "view": {
                    "id": "V1",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": json.dumps(metadata),
                    "state": {
                        "values": {"input": {"value": {"type": "plain_text_input", "value": text}}}
                    },
                },
            }
        )

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": self.team,
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._ids):08d}",
                "event_time": int(time.time()),
                "event": event,
                "authorizations": [{"team_id": self.team, "user_id": "UBOT", "is_bot": True}],
            }
        )
        return await self.post(body, "application/json", headers=headers)

    async def react(
        self, ts: str, user: str, reaction: str = "white_check_mark", added: bool = True
    ) -> ClientResponse:
        return await self.event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user,
                "reaction": reaction,
                "item": {"type": "message", "channel": self.channel, "ts": ts},
                "event_ts": str(time.time()),
            }
        )

    async def card_ts(self, draft_id: int) -> str:
        """Where the draft's card was posted (its message ts), once it has been."""
        from chatops.storage.drafts import DraftStore

        async def cards() -> list[Any]:
            async with self.service.db.transaction() as session:
                return list(await DraftStore(session).cards(draft_id))

        async def posted() -> bool:
            return bool(await cards())

        await eventually(posted)
        return str((await cards())[0].message_id)

    def button_value(self, draft_id: int, action_id: str = "draft_approve") -> str:
        """The value a draft's button carries on its newest card (posted or updated), as
        Slack would send it back when the button is clicked."""
        value = None
        for call in self.fake.calls:
            if call.method not in ("chat.postMessage", "chat.update"):
                continue
            for block in call.args.get("blocks") or []:
                if block.get("type") == "actions" and block.get("block_id") == f"draft:{draft_id}":
                    for element in block["elements"]:
                        if element.get("action_id") == action_id:
                            value = str(element["value"])
        if value is None:
            raise AssertionError(f"no {action_id} button on a card of draft {draft_id}")
        return value

    def card_posts(self) -> list[dict[str, Any]]:
        """chat.postMessage calls that posted a card (blocks), oldest first."""
        return [c.args for c in self.fake.calls_to("chat.postMessage") if c.args.get("blocks")]

    def thread_replies(self) -> list[str]:
        return [
            str(c.args["text"])
            for c in self.fake.calls_to("chat.postMessage")
            if c.args.get("thread_ts")
        ]

    def responses(self) -> list[dict[str, Any]]:
        return [c.args for c in self.fake.calls if c.method == "response_url"]


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in a list of blocks, to assert on what a person would read."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Bolt finishes the work after acking; wait for its effect rather than sleeping blindly."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")
