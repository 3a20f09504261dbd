"""Prove FakeSlack against the real slack_sdk and slack-bolt clients.

Other tests trust the fake to behave like Slack; these pin that trust to the SDK's own
request encoding, error handling, retry handlers and Socket Mode reconnect logic.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url)


async def test_web_api_methods_answer_like_slack(fake: FakeSlack, client: AsyncWebClient) -> None:
    auth = await client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0001", "UBOT", "B0001")

    first = await client.chat_postMessage(channel="C0001", text="hi", blocks=BLOCKS)
    second = await client.chat_postMessage(channel="C0001", text="again", thread_ts=first["ts"])
    assert first["channel"] == "C0001"
    assert first["message"]["blocks"] == BLOCKS
    assert second["message"]["thread_ts"] == first["ts"]
    assert float(second["ts"]) > float(first["ts"])

    updated = await client.chat_update(channel="C0001", ts=first["ts"], text="edited")
    assert (updated["ts"], updated["text"]) == (first["ts"], "edited")

    view = {"type": "modal", "title": {"type": "plain_text", "text": "Draft"}, "blocks": BLOCKS}
    opened = await client.views_open(trigger_id="123.456", view=view)
    assert opened["view"]["id"].startswith("V")
    assert opened["view"]["blocks"] == BLOCKS
    assert opened["view"]["hash"]

    post = fake.calls_to("chat.postMessage")[0]
    assert post.token == "xoxb-test"
    assert post.args == {"channel": "C0001", "text": "hi", "blocks": BLOCKS}
    assert fake.calls_to("views.open")[0].args["view"] == view
    assert [call.method for call in fake.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "views.open",
    ]


async def test_form_and_query_arguments_are_parsed(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.api_call(
        "chat.postMessage", data={"channel": "C0001", "blocks": json.dumps(BLOCKS)}
    )
    info = await client.users_info(user="U123")  # the SDK sends this as a GET query

    assert fake.calls_to("chat.postMessage")[0].args == {"channel": "C0001", "blocks": BLOCKS}
    assert fake.calls_to("users.info")[0].args == {"user": "U123"}
    assert info["user"]["profile"]["display_name"] == "u123"


async def test_unknown_token_and_method_fail(fake: FakeSlack) -> None:
    stranger = AsyncWebClient(token="xoxb-stranger", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as bad_auth:
        await stranger.auth_test()
    assert bad_auth.value.response["error"] == "invalid_auth"

    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("chat.doesNotExist")
    assert unknown.value.response["error"] == "unknown_method"
    assert len(fake.calls) == 2


async def test_rate_limit_is_retried_after_retry_after(
    fake: FakeSlack, client: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler sleeps Retry-After plus jitter; record the wait instead of spending it.
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=no_sleep))
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    fake.rate_limit("chat.postMessage", retry_after=1)

    response = await client.chat_postMessage(channel="C0001", text="hi")

    assert response["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(waits) == 1
    assert 1 <= waits[0] < 2


async def test_rate_limit_without_retry_handler_raises(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0001", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


async def test_fail_answers_the_error_then_recovers(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail("chat.postMessage", "not_in_channel", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C0001", text="hi")
        assert raised.value.response["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel="C0001", text="hi"))["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 3


async def test_response_url_records_posts(fake: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.response_url(), json={"text": "done", "replace_original": True}) as resp,
    ):
        assert resp.status == 200
        assert await resp.json() == {"ok": True}

    [call] = fake.calls_to("response_url")
    assert call.args == {"text": "done", "replace_original": True}
    assert call.token is None


async def test_oauth_v2_access_issues_a_working_token(fake: FakeSlack) -> None:
    installer = AsyncWebClient(base_url=fake.base_url)
    install = await installer.oauth_v2_access(
        client_id="111.222", client_secret="secret", code="abc", redirect_uri="https://x/cb"
    )
    assert install["team"] == {"id": "T0002", "name": "Second Team"}
    assert install["access_token"].startswith("xoxb-")

    [call] = fake.calls_to("oauth.v2.access")
    assert call.args["client_id"] == "111.222"  # sent by the SDK as HTTP Basic auth
    assert call.args["code"] == "abc"

    second = AsyncWebClient(token=install["access_token"], base_url=fake.base_url)
    auth = await second.auth_test()
    assert (auth["team_id"], auth["user_id"]) == ("T0002", "UBOT2")


async def test_wait_for_times_out_with_a_helpful_message(fake: FakeSlack) -> None:
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        await fake.wait_for("chat.postMessage", timeout=0.05)


async def test_socket_mode_round_trip_and_reconnect(fake: FakeSlack) -> None:
    client = SocketModeClient(
        app_token="xapp-test", web_client=AsyncWebClient(base_url=fake.base_url)
    )
    received: list[SocketModeRequest] = []

    async def on_request(socket_client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        response = SocketModeResponse(envelope_id=request.envelope_id)
        await socket_client.send_socket_mode_response(response)

    client.socket_mode_request_listeners.append(on_request)  # type: ignore[arg-type]
    try:
        await client.connect()
        await fake.wait_for_socket(1)
        await fake.socket_send(
            {
                "envelope_id": "e1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {"command": "/post", "text": "hi"},
            }
        )
        assert await fake.socket_acks(1) == [{"envelope_id": "e1"}]
        assert received[0].payload == {"command": "/post", "text": "hi"}
        assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"

        await fake.socket_drop()
        await fake.wait_for_socket(2)
        assert fake.socket_connections == 2

        await fake.socket_send(
            {"envelope_id": "e2", "type": "events_api", "payload": {"event": {"type": "x"}}}
        )
        acks = await fake.socket_acks(2)
        assert [ack["envelope_id"] for ack in acks] == ["e1", "e2"]
    finally:
        await client.close()


async def test_bolt_app_over_socket_mode(fake: FakeSlack) -> None:
    app = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=fake.base_url))

    @app.command("/post")
    async def post(ack: AsyncAck, say: AsyncSay, respond: AsyncRespond, command: Any) -> None:
        await ack()
        await say(f"posting {command['text']}")
        await respond("queued")

    handler = AsyncSocketModeHandler(app, app_token="xapp-test")
    try:
        await handler.connect_async()
        await fake.wait_for_socket()
        await fake.socket_send(
            {
                "envelope_id": "e1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "token": "verification",
                    "team_id": "T0001",
                    "user_id": "U123",
                    "channel_id": "C0001",
                    "command": "/post",
                    "text": "hello",
                    "response_url": fake.response_url(),
                    "trigger_id": "1.2.3",
                },
            }
        )
        assert (await fake.socket_acks())[0]["envelope_id"] == "e1"
        [message] = await fake.wait_for("chat.postMessage")
        assert (message.args["channel"], message.args["text"]) == ("C0001", "posting hello")
        [reply] = await fake.wait_for("response_url")
        assert reply.args["text"] == "queued"
    finally:
        await handler.close_async()
