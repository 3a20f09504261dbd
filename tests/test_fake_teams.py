"""Prove FakeConnector and the Teams activity builders against the real Microsoft 365 Agents SDK.

Other tests trust the fake to behave like the Bot Framework Connector that Teams' ``serviceUrl``
points at; these pin that trust to the SDK's own connector client (paths, bodies, status
handling) and to its activity model and CloudAdapter, so a drift in either shows up here first
rather than as a puzzling failure in a bot test.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from microsoft_agents.activity import (
    Activity,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationParameters,
)
from microsoft_agents.activity.teams import TeamsChannelData
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_decorator,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.connector import ConnectorClient, TeamsConnectorClient
from yarl import URL

from tests.fakes.teams import (
    FakeConnector,
    invoke_action_activity,
    message_activity,
    reaction_activity,
)

CHANNEL = "19:abc123@thread.tacv2"
ALICE_AAD = "00000000-0000-0000-0000-00000000a11c"


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as connector:
        yield connector


@pytest.fixture
async def client(fake: FakeConnector) -> AsyncIterator[TeamsConnectorClient]:
    """The class the SDK's RestChannelServiceClientFactory builds per turn; "" is what its
    anonymous token provider returns, which makes the client send no Authorization header."""
    connector = TeamsConnectorClient(endpoint=fake.service_url, token="")
    yield connector
    await connector.close()


def _message(text: str) -> Activity:
    return Activity(type="message", text=text)


async def test_sdk_sends_replies_updates_and_deletes(
    fake: FakeConnector, client: TeamsConnectorClient
) -> None:
    assert fake.service_url.endswith("/")

    first = await client.conversations.send_to_conversation(CHANNEL, _message("card"))
    reply = await client.conversations.reply_to_activity(CHANNEL, first.id, _message("in thread"))
    updated = await client.conversations.update_activity(CHANNEL, first.id, _message("edited"))
    await client.conversations.delete_activity(CHANNEL, reply.id)

    assert (first.id, reply.id) == ("1700000000001", "1700000000002")
    assert updated.id == first.id
    assert [(call.method, call.path, call.status) for call in fake.calls] == [
        ("POST", f"/v3/conversations/{CHANNEL}/activities", 201),
        ("POST", f"/v3/conversations/{CHANNEL}/activities/1700000000001", 201),
        ("PUT", f"/v3/conversations/{CHANNEL}/activities/1700000000001", 200),
        ("DELETE", f"/v3/conversations/{CHANNEL}/activities/1700000000002", 200),
    ]
    assert all(call.conversation_id == CHANNEL for call in fake.calls)
    assert [call.activity_id for call in fake.calls] == [
        None,
        "1700000000001",
        "1700000000001",
        "1700000000002",
    ]
    assert all(call.authorization is None for call in fake.calls)
    assert [body["text"] for body in fake.sent()] == ["card", "in thread"]
    assert all(body["type"] == "message" for body in fake.sent())
    assert [(call.activity_id, call.body) for call in fake.updated()] == [
        ("1700000000001", {"type": "message", "text": "edited"})
    ]
    assert fake.calls[-1].body is None


async def test_bearer_token_is_recorded(fake: FakeConnector) -> None:
    # The base ConnectorClient joins paths onto the endpoint whether or not it ends in "/".
    client = ConnectorClient(fake.service_url.rstrip("/"), "token-123")
    try:
        await client.conversations.send_to_conversation(CHANNEL, _message("hi"))
    finally:
        await client.close()
    assert fake.calls[0].authorization == "Bearer token-123"


async def test_encoded_and_raw_conversation_ids_decode_the_same(
    fake: FakeConnector, client: TeamsConnectorClient
) -> None:
    """The SDK puts ids in paths as they are; other clients percent-encode them."""
    thread = f"{CHANNEL};messageid=1690000000000"
    await client.conversations.send_to_conversation(thread, _message("raw"))
    encoded = f"{fake.service_url}v3/conversations/a%3A1xyz%2Fodd/activities/1690000000000"
    async with (
        aiohttp.ClientSession() as session,
        session.post(URL(encoded, encoded=True), json={"type": "message", "text": "x"}) as r,
    ):
        assert r.status == 201
        assert (await r.json())["id"] == "1700000000002"
    assert [(c.conversation_id, c.activity_id) for c in fake.calls] == [
        (thread, None),
        ("a:1xyz/odd", "1690000000000"),
    ]
    assert len(fake.sent()) == 2


async def test_fail_next_makes_the_sdk_raise(
    fake: FakeConnector, client: TeamsConnectorClient
) -> None:
    fake.fail_next(503)
    with pytest.raises(aiohttp.ClientResponseError) as failed:
        await client.conversations.send_to_conversation(CHANNEL, _message("lost"))
    assert failed.value.status == 503
    # The SDK puts the service's error body in the exception message.
    assert '"code": "ServiceUnavailable"' in failed.value.message

    fake.fail_next(429, times=2)
    for _ in range(2):
        with pytest.raises(aiohttp.ClientResponseError) as throttled:
            await client.conversations.reply_to_activity(CHANNEL, "1690000000000", _message("r"))
        assert throttled.value.status == 429
        assert throttled.value.headers is not None
        assert throttled.value.headers["Retry-After"] == "1"

    delivered = await client.conversations.send_to_conversation(CHANNEL, _message("retried"))
    assert delivered.id == "1700000000001"
    assert [call.status for call in fake.calls] == [503, 429, 429, 201]
    assert [body["text"] for body in fake.sent()] == ["retried"]


async def test_fail_next_does_not_touch_updates(
    fake: FakeConnector, client: TeamsConnectorClient
) -> None:
    fake.fail_next(500)
    await client.conversations.update_activity(CHANNEL, "1690000000000", _message("edit"))
    with pytest.raises(aiohttp.ClientResponseError):
        await client.conversations.send_to_conversation(CHANNEL, _message("fails"))
    assert len(fake.updated()) == 1


async def test_create_conversation_and_members(
    fake: FakeConnector, client: TeamsConnectorClient
) -> None:
    created = await client.conversations.create_conversation(
        ConversationParameters(
            is_group=False,
            members=[ChannelAccount(id="29:user-alice")],
            tenant_id="tenant-1",
            activity=_message("hello in private"),
        )
    )
    assert created.id == "a:new-conversation-1"
    assert created.activity_id == "1700000000001"
    assert created.service_url == fake.service_url
    assert fake.calls[0].body is not None
    assert fake.calls[0].body["activity"]["text"] == "hello in private"
    assert fake.sent() == []  # create-conversation activities are only in `calls`

    members = await client.conversations.get_conversation_members(CHANNEL)
    assert [member.name for member in members] == ["Alice", "Bob"]
    assert members[0].aad_object_id == ALICE_AAD

    # Teams looks members up by channel id or AAD object id; the Teams client's override.
    alice = await client.get_conversation_member(CHANNEL, ALICE_AAD)
    assert (alice.id, alice.user_principal_name) == ("29:user-alice", "alice@contoso.example")
    with pytest.raises(aiohttp.ClientResponseError) as missing:
        await client.conversations.get_conversation_member(CHANNEL, "29:nobody")
    assert missing.value.status == 404

    page = await client.conversations.get_conversation_paged_members(CHANNEL, page_size=1)
    assert [m.id for m in page.members] == ["29:user-alice"]
    assert page.continuation_token
    rest = await client.conversations.get_conversation_paged_members(
        CHANNEL, page_size=1, continuation_token=page.continuation_token
    )
    assert [m.id for m in rest.members] == ["29:user-bob"]
    assert rest.continuation_token is None

    # TeamsConnectorClient spells the path "pagedMembers"; the service ignores the case.
    teams_page = await client.get_conversation_paged_member(CHANNEL, 10, "")
    assert [m.user_principal_name for m in teams_page.members] == [
        "alice@contoso.example",
        "bob@contoso.example",
    ]


async def test_unknown_resources_answer_not_found(fake: FakeConnector) -> None:
    async with aiohttp.ClientSession(base_url=fake.service_url) as session:
        async with session.get(f"/v3/conversations/{CHANNEL}/activities/1/members") as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == "NotFound"
        async with session.post(
            f"/v3/conversations/{CHANNEL}/activities/history", json={"activities": []}
        ) as r:
            assert r.status == 404
        async with session.post(f"/v3/conversations/{CHANNEL}/activities", data="{") as r:
            assert r.status == 400
            assert (await r.json())["error"]["code"] == "BadArgument"
    assert [call.status for call in fake.calls] == [404, 404, 400]
    assert fake.calls[0].activity_id == "1"
    assert fake.sent() == []


async def test_waiters_see_background_sends(
    fake: FakeConnector, client: TeamsConnectorClient
) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.conversations.send_to_conversation(CHANNEL, _message("one"))
        await client.conversations.update_activity(CHANNEL, "1700000000001", _message("two"))

    task = asyncio.create_task(later())
    sent = await fake.wait_for_sent(1, timeout=2.0)
    updates = await fake.wait_for_updates(1, timeout=2.0)
    await task
    assert sent[0]["text"] == "one"
    assert updates[0].body == {"type": "message", "text": "two"}

    with pytest.raises(AssertionError, match="expected at least 2 sent"):
        await fake.wait_for_sent(2, timeout=0.05)


def test_channel_message_is_a_valid_teams_activity() -> None:
    raw = message_activity("deploy now", service_url="http://127.0.0.1:1/")
    activity = Activity.model_validate(raw)

    assert activity.type == "message"
    assert activity.channel_id == "msteams"
    assert activity.service_url == "http://127.0.0.1:1/"
    assert activity.conversation.conversation_type == "channel"
    assert activity.conversation.is_group is True
    assert activity.conversation.tenant_id == "tenant-1"
    assert activity.from_property.aad_object_id == ALICE_AAD
    assert activity.recipient is not None
    assert activity.recipient.id == "28:bot-id"
    mentions = activity.get_mentions()
    assert len(mentions) == 1
    assert (mentions[0].text, mentions[0].mentioned.id) == ("<at>chatops</at>", "28:bot-id")
    assert raw["text"] == "<at>chatops</at> deploy now"
    assert activity.is_recipient_mentioned()
    assert activity.remove_recipient_mention() == "deploy now"

    channel_data = TeamsChannelData.model_validate(raw["channelData"])
    assert channel_data.team.id == "19:team1@thread.tacv2"
    assert channel_data.channel.id == "19:channel1@thread.tacv2"
    assert channel_data.tenant.id == "tenant-1"


def test_personal_message_without_mention() -> None:
    raw = message_activity(
        "status",
        service_url="http://127.0.0.1:1/",
        conversation_id="a:1personal",
        conversation_type="personal",
        mention_bot=False,
        aad_object_id=None,
        team_id=None,
        reply_to_id="1690000000000",
    )
    activity = Activity.model_validate(raw)
    assert activity.text == "status"
    assert activity.conversation.conversation_type == "personal"
    assert activity.conversation.is_group is None
    assert activity.get_mentions() == []
    assert activity.from_property.aad_object_id is None
    assert activity.reply_to_id == "1690000000000"
    assert activity.attachments is None
    assert raw["channelData"] == {"tenant": {"id": "tenant-1"}}


def test_inbound_activity_ids_are_unique() -> None:
    ids = {message_activity("x", service_url="http://h/")["id"] for _ in range(3)}
    assert len(ids) == 3


def test_invoke_and_reaction_builders_validate() -> None:
    invoke = Activity.model_validate(
        invoke_action_activity(
            "approve", {"draft": 7}, service_url="http://127.0.0.1:1/", reply_to_id="17001"
        )
    )
    assert (invoke.type, invoke.name, invoke.reply_to_id) == (
        "invoke",
        "adaptiveCard/action",
        "17001",
    )
    value: Any = invoke.value
    assert value == {
        "action": {"type": "Action.Execute", "verb": "approve", "data": {"draft": 7}},
        "trigger": "manual",
    }

    added = Activity.model_validate(
        reaction_activity(
            ["like", "heart"], added=True, service_url="http://127.0.0.1:1/", reply_to_id="17002"
        )
    )
    assert added.type == "messageReaction"
    assert [r.type for r in added.reactions_added] == ["like", "heart"]
    assert added.reactions_removed is None
    assert added.reply_to_id == "17002"

    removed = Activity.model_validate(
        reaction_activity(["like"], added=False, service_url="http://h/", reply_to_id="17002")
    )
    assert [r.type for r in removed.reactions_removed] == ["like"]
    assert removed.reactions_added is None


def _sdk_agent() -> tuple[web.Application, AgentApplication[TurnState]]:
    """A minimal agent built from the SDK alone (not the project's), in anonymous mode."""
    connections = MsalConnectionManager(
        CONNECTIONS={"SERVICE_CONNECTION": {"SETTINGS": {"ANONYMOUS_ALLOWED": True}}}
    )
    adapter = CloudAdapter(connection_manager=connections)
    # The adapter is handed to start_agent_process; passing it here too is deprecated.
    agent = AgentApplication[TurnState](storage=MemoryStorage(), connection_manager=connections)

    @agent.message(re.compile(r".*"))
    async def echo(context: TurnContext, state: TurnState) -> None:
        await context.send_activity(f"echo: {context.activity.remove_recipient_mention()}")

    @agent.adaptive_card.action_execute("approve")
    async def approve(
        context: TurnContext, state: TurnState, data: Any
    ) -> AdaptiveCardInvokeResponse:
        card = Activity(type="message", id=context.activity.reply_to_id, text="approved")
        await context.update_activity(card)
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.activity.message", value="done"
        )

    @agent.message_reaction_added()
    async def reacted(context: TurnContext, state: TurnState) -> None:
        await context.send_activity(f"reaction: {context.activity.reactions_added[0].type}")

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent, adapter)
        return response if response is not None else web.Response(status=202)

    app = web.Application()
    app["agent_configuration"] = connections.get_default_connection_configuration()
    app.router.add_post("/api/messages", jwt_authorization_decorator(messages))  # type: ignore[no-untyped-call]
    return app, agent


# The SDK looks its configuration up under a plain string key, which aiohttp warns about.
@pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
async def test_a_real_sdk_agent_talks_back_through_the_fake(fake: FakeConnector) -> None:
    """The whole loop: builder JSON in, the SDK's CloudAdapter out to the fake connector."""
    app, _agent = _sdk_agent()
    async with TestServer(app) as server, aiohttp.ClientSession() as http:
        url = server.make_url("/api/messages")
        inbound = message_activity("hello", service_url=fake.service_url)
        async with http.post(url, json=inbound) as response:
            assert response.status == 202
        [echo] = await fake.wait_for_sent(1)
        assert echo["text"] == "echo: hello"
        # The SDK answers a message as a reply to it, on the thread of the inbound id.
        assert fake.calls[0].activity_id == inbound["id"]
        assert fake.calls[0].conversation_id == "19:channel1@thread.tacv2"
        assert echo["replyToId"] == inbound["id"]
        assert fake.calls[0].authorization is None

        click = invoke_action_activity(
            "approve", {"draft": 1}, service_url=fake.service_url, reply_to_id="1700000000001"
        )
        async with http.post(url, json=click) as response:
            assert response.status == 200
            assert (await response.json())["value"] == "done"
        [update] = await fake.wait_for_updates(1)
        assert update.activity_id == "1700000000001"
        assert update.body is not None
        assert update.body["text"] == "approved"

        reaction = reaction_activity(
            ["like"], added=True, service_url=fake.service_url, reply_to_id="1700000000001"
        )
        async with http.post(url, json=reaction) as response:
            assert response.status == 202
        sent = await fake.wait_for_sent(2)
        assert sent[-1]["text"] == "reaction: like"
