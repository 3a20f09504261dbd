"""Hostile input: never a 500, never a crash, never a state change on bad input; always a
clear 4xx or a clear chat message.

Slack requests go through the real bolt app mounted on `chatops serve`'s aiohttp app (the
`slack` fixture), Teams activities through the Microsoft 365 Agents SDK route, and command
text from a fuzzer through the console, which serves the same command registry as both.

Each `reason` below names an application bug these tests found, now fixed; the tests stay
as regression tests for them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.chat.teams.handlers import FRIENDLY_ERROR
from adapters.chat.web.app import build_web_app
from chatops.service import Service, build_service
from chatops.storage.audit import AuditLog
from chatops.storage.tables import ApprovalRow, AuditEventRow, DraftRow
from commands.parsing import take_word
from tests.fakes.teams import FakeConnector, invoke_action_activity, message_activity
from tests.harness import Conversation, make_settings
from tests.slack_harness import (
    APPROVER,
    AUTHOR,
    CHANNEL,
    TEAM,
    SlackDriver,
    eventually,
    signature,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon, as in conftest
TWO_MIB = 2 * 1024 * 1024
CRASH_TEXT = "Something went wrong on our side"  # commands/registry.py's generic crash reply


def known_bug(reason: str) -> tuple[()]:
    """A bug this case found, since fixed: the reason documents it; no mark is applied."""
    return ()


NUL_USER = (
    "commands/registry.py CommandRegistry.dispatch cleans the invocation's text "
    "(clean_text) but not the actor's user id; PostgreSQL cannot store NUL, so every "
    "command by such a user ends in the generic crash reply"
)


def known_bug_on_postgres(request: pytest.FixtureRequest, backend: str, reason: str) -> None:
    """A PostgreSQL-only bug this test found, since fixed (see `reason`)."""


# -- shared checks ----------------------------------------------------------------------------


async def assert_nothing_changed(service: Service) -> None:
    """No draft (in any state), no approval and no audit event exists."""
    assert await service.core.workflow.queue() == []
    async with service.db.transaction() as session:
        assert await AuditLog(session).events() == []
        for table in (DraftRow, ApprovalRow, AuditEventRow):
            count = await session.scalar(select(func.count()).select_from(table))
            assert count == 0, f"{table.__tablename__} has {count} row(s)"


def assert_client_error_or_ok(status: int, body: str, ok: tuple[int, ...] = (200,)) -> None:
    """A clear 4xx, or an `ok` status (Slack requires 200 for anything it should show)."""
    assert status < 500, f"server error {status}: {body[:300]}"
    assert status in ok or 400 <= status < 500, f"unexpected status {status}: {body[:300]}"


# -- Slack ------------------------------------------------------------------------------------

SlackCase = Callable[[SlackDriver], Awaitable[ClientResponse]]


def command_form(slack: SlackDriver, text: str = "Forged post", **overrides: str | None) -> str:
    form: dict[str, str | None] = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "agency",
        "channel_id": CHANNEL,
        "channel_name": "comms",
        "user_id": AUTHOR,
        "user_name": "author",
        "command": "/post",
        "text": text,
        "api_app_id": "A0001",
        "response_url": slack.fake.response_url("hostile"),
        "trigger_id": "trigger.hostile",
        **overrides,
    }
    return urlencode({k: v for k, v in form.items() if v is not None})


def interaction(slack: SlackDriver, **fields: Any) -> dict[str, Any]:
    """A block_actions payload as Slack sends it; `fields` replace or (None) remove keys."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "agency"},
        "user": {"id": APPROVER, "username": "approver", "team_id": TEAM},
        "api_app_id": "A0001",
        "channel": {"id": CHANNEL, "name": "comms"},
        "container": {"type": "message", "message_ts": "1.000100", "channel_id": CHANNEL},
        "message": {"ts": "1.000100", "type": "message"},
        "trigger_id": "trigger.hostile",
        "response_url": slack.fake.response_url("hostile-action"),
        "actions": [
            {
                "type": "button",
                "action_id": "draft_approve",
                "block_id": "draft:1",
                "value": "1",
                "action_ts": str(time.time()),
            }
        ],
    }
    for key, value in fields.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def view_submission(callback_id: str, metadata: str | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": "V1",
        "type": "modal",
        "callback_id": callback_id,
        "state": {"values": {"input": {"value": {"type": "plain_text_input", "value": "Why"}}}},
    }
    if metadata is not None:
        view["private_metadata"] = metadata
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "agency"},
        "user": {"id": APPROVER, "username": "approver", "team_id": TEAM},
        "api_app_id": "A0001",
        "trigger_id": "trigger.hostile",
        "view": view,
    }


def event_body(**fields: Any) -> str:
    body: dict[str, Any] = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": f"EvHostile{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
    }
    body.update(fields)
    return json.dumps(body)


async def forged_signature(slack: SlackDriver) -> ClientResponse:
    return await slack.post(command_form(slack), FORM, secret="not-the-signing-secret")


async def missing_signature_headers(slack: SlackDriver) -> ClientResponse:
    return await slack.client.post(
        "/slack/events", data=command_form(slack), headers={"Content-Type": FORM}
    )


async def missing_timestamp_header(slack: SlackDriver) -> ClientResponse:
    body = command_form(slack)
    stamp = str(int(time.time()))
    headers = {"Content-Type": FORM, "X-Slack-Signature": signature(body, stamp)}
    return await slack.client.post("/slack/events", data=body, headers=headers)


async def stale_timestamp(slack: SlackDriver) -> ClientResponse:
    return await slack.post(command_form(slack), FORM, timestamp=str(int(time.time()) - 6 * 60))


async def future_timestamp(slack: SlackDriver) -> ClientResponse:
    return await slack.post(command_form(slack), FORM, timestamp=str(int(time.time()) + 6 * 60))


async def unknown_payload_type(slack: SlackDriver) -> ClientResponse:
    return await slack.post(json.dumps({"type": "something_new"}), JSON)


async def unknown_slash_command(slack: SlackDriver) -> ClientResponse:
    return await slack.post(command_form(slack, command="/nuke"), FORM)


async def empty_signed_body(slack: SlackDriver) -> ClientResponse:
    return await slack.post("", FORM)


async def event_callback_without_event(slack: SlackDriver) -> ClientResponse:
    return await slack.post(event_body(), JSON)


async def interaction_without_actions(slack: SlackDriver) -> ClientResponse:
    return await slack.interact(interaction(slack, actions=None))


async def interaction_with_empty_actions(slack: SlackDriver) -> ClientResponse:
    return await slack.interact(interaction(slack, actions=[]))


async def interaction_without_user(slack: SlackDriver) -> ClientResponse:
    return await slack.interact(interaction(slack, user=None))


async def oversized_body(slack: SlackDriver) -> ClientResponse:
    return await slack.post(command_form(slack, text="x" * TWO_MIB), FORM)


async def oversized_unsigned_body(slack: SlackDriver) -> ClientResponse:
    body = "payload=" + "x" * TWO_MIB
    return await slack.client.post("/slack/events", data=body, headers={"Content-Type": FORM})


async def non_numeric_draft_id(slack: SlackDriver) -> ClientResponse:
    action = {"type": "button", "action_id": "draft_approve", "block_id": "b", "value": "abc"}
    return await slack.interact(interaction(slack, actions=[action]))


async def malformed_form_payload(slack: SlackDriver) -> ClientResponse:
    return await slack.post("payload=%7Bnot-json", FORM)


async def malformed_form_payload_unsigned(slack: SlackDriver) -> ClientResponse:
    return await slack.client.post(
        "/slack/events", data="payload=%7Bnot-json", headers={"Content-Type": FORM}
    )


async def json_array_body(slack: SlackDriver) -> ClientResponse:
    return await slack.post("[1, 2, 3]", JSON)


async def json_string_body(slack: SlackDriver) -> ClientResponse:
    return await slack.post('"hello"', JSON)


async def payload_that_is_a_json_array(slack: SlackDriver) -> ClientResponse:
    return await slack.post(urlencode({"payload": "[1]"}), FORM)


async def invalid_json_body(slack: SlackDriver) -> ClientResponse:
    return await slack.post("{not json", JSON)


async def non_numeric_timestamp(slack: SlackDriver) -> ClientResponse:
    return await slack.post(command_form(slack), FORM, timestamp="yesterday")


async def event_that_is_not_an_object(slack: SlackDriver) -> ClientResponse:
    return await slack.post(event_body(event="reaction_added"), JSON)


async def view_submission_without_private_metadata(slack: SlackDriver) -> ClientResponse:
    return await slack.interact(view_submission("draft_reject_modal", None))


async def view_submission_with_malformed_private_metadata(slack: SlackDriver) -> ClientResponse:
    return await slack.interact(view_submission("draft_edit_modal", "{not json"))


async def view_submission_for_an_unknown_alert(slack: SlackDriver) -> ClientResponse:
    return await slack.interact(view_submission("alert_reply_modal", '{"alert_id": 99}'))


async def body_that_is_not_utf8(slack: SlackDriver) -> ClientResponse:
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    return await slack.client.post("/slack/events", data=b"payload=\xff\xfe", headers=headers)


SLACK_CLEAR_ANSWERS: dict[str, SlackCase] = {
    "forged signature": forged_signature,
    "missing signature headers": missing_signature_headers,
    "missing timestamp header": missing_timestamp_header,
    "stale timestamp": stale_timestamp,
    "future timestamp": future_timestamp,
    "non-numeric timestamp header": non_numeric_timestamp,
    "unknown payload type": unknown_payload_type,
    "unknown slash command": unknown_slash_command,
    "empty signed body": empty_signed_body,
    "malformed form payload": malformed_form_payload,
    "malformed form payload, unsigned": malformed_form_payload_unsigned,
    "form payload that is a JSON array": payload_that_is_a_json_array,
    "invalid JSON body": invalid_json_body,
    "JSON body that is an array": json_array_body,
    "JSON body that is a string": json_string_body,
    "event_callback without event": event_callback_without_event,
    "event that is not an object": event_that_is_not_an_object,
    "interaction without actions": interaction_without_actions,
    "interaction with empty actions": interaction_with_empty_actions,
    "interaction without user": interaction_without_user,
    "non-numeric draft id in a button": non_numeric_draft_id,
    "view_submission without private_metadata": view_submission_without_private_metadata,
    "view_submission with malformed private_metadata": (
        view_submission_with_malformed_private_metadata
    ),
    "view_submission for an unknown alert": view_submission_for_an_unknown_alert,
    "oversized body (2 MiB)": oversized_body,
    "oversized unsigned body (2 MiB)": oversized_unsigned_body,
}


SLACK_SERVER_ERRORS: dict[str, tuple[SlackCase, str]] = {
    "unsigned body that is not UTF-8": (
        body_that_is_not_utf8,
        "adapters/chat/slack/integration.py SlackIntegration.handle_events reads the body with "
        "request.text() before the signature check; a non-UTF-8 body raises "
        "UnicodeDecodeError there, and any unauthenticated client gets a 500",
    ),
}


async def check_slack_answer(slack: SlackDriver, response: ClientResponse) -> None:
    body = await response.text()
    assert_client_error_or_ok(response.status, body)
    if response.status == 200 and body:
        # A modal submission is answered in the response: the error shown next to the input.
        answer = json.loads(body)
        assert answer.get("response_action") == "errors", answer
        assert all(str(text).strip() for text in answer["errors"].values()), answer
        assert answer["errors"], answer
    elif response.status == 200:
        # Slack needs 200; the person must then be told something, privately.
        async def answered() -> bool:
            return bool(slack.responses()) or bool(slack.fake.calls_to("chat.postEphemeral"))

        await eventually(answered)
        texts = [str(r.get("text", "")) for r in slack.responses()]
        texts += [str(c.args.get("text", "")) for c in slack.fake.calls_to("chat.postEphemeral")]
        assert all(text.strip() for text in texts), texts
        assert all(r.get("response_type") == "ephemeral" for r in slack.responses())
        assert not any("Traceback" in text for text in texts)


@pytest.mark.parametrize("case", list(SLACK_CLEAR_ANSWERS))
async def test_hostile_slack_request_gets_a_clear_answer_and_changes_nothing(
    slack: SlackDriver, case: str
) -> None:
    response = await SLACK_CLEAR_ANSWERS[case](slack)
    await check_slack_answer(slack, response)
    await assert_nothing_changed(slack.service)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(name, marks=known_bug(reason))
        for name, (_, reason) in SLACK_SERVER_ERRORS.items()
    ],
)
async def test_hostile_slack_request_is_never_a_server_error(slack: SlackDriver, case: str) -> None:
    build, _ = SLACK_SERVER_ERRORS[case]
    response = await build(slack)
    try:
        await check_slack_answer(slack, response)
    finally:
        await assert_nothing_changed(slack.service)


async def test_after_every_hostile_slack_request_nothing_exists(slack: SlackDriver) -> None:
    """All of them in a row: still no draft, approval or audit event."""
    statuses = {name: (await build(slack)).status for name, build in SLACK_CLEAR_ANSWERS.items()}
    assert all(status < 500 for status in statuses.values()), statuses
    for build, _ in SLACK_SERVER_ERRORS.values():
        await build(slack)
    await assert_nothing_changed(slack.service)
    # The bot said nothing in any channel on behalf of a hostile request.
    assert slack.fake.calls_to("chat.postMessage") == []
    assert slack.fake.calls_to("views.open") == []


async def test_a_non_numeric_draft_id_in_a_button_gets_a_friendly_reply(
    slack: SlackDriver,
) -> None:
    """Acknowledged at once (Slack gives up after 3 s) and explained privately."""
    started = time.monotonic()
    response = await non_numeric_draft_id(slack)
    try:
        assert response.status == 200, await response.text()
        assert time.monotonic() - started < 2.5, "Slack gives up after 3 s"

        async def told() -> bool:
            return bool(slack.responses())

        await eventually(told, within=2.0)
    finally:
        await assert_nothing_changed(slack.service)


# Found and fixed: reacted_message (adapters/chat/slack/payloads.py) called item.get() on an
# `item` that could be a string, raising in the reaction listener.
async def test_a_reaction_on_something_odd_is_ignored_without_a_crash(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    event = {"type": "reaction_added", "user": APPROVER, "reaction": "white_check_mark"}
    for item in ("1.000100", ["C0001"], {"type": "message", "channel": ["C1"], "ts": 5}):
        response = await slack.event({**event, "item": item})
        assert response.status == 200

    def errors() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]

    # Events are acknowledged first and handled after: give the listeners time to fail.
    for _ in range(40):
        if errors():
            break
        await asyncio.sleep(0.05)
    assert errors() == []
    await assert_nothing_changed(slack.service)


async def test_a_command_without_a_user_changes_nothing(slack: SlackDriver) -> None:
    """A signed /post without user_id must not create a draft authored by nobody."""
    response = await slack.post(command_form(slack, "Anonymous post", user_id=None), FORM)
    assert response.status < 500
    await slack.service.drain_jobs().run_all_once()

    async def answered() -> bool:
        return bool(slack.responses())

    await eventually(answered)
    await assert_nothing_changed(slack.service)


# -- Teams ------------------------------------------------------------------------------------

BOB = "00000000-0000-0000-0000-000000000b0b"
CAROL = "00000000-0000-0000-0000-0000000ca201"
INVOKE_MESSAGE = "application/vnd.microsoft.activity.message"
INVOKE_ERROR = "application/vnd.microsoft.error"


class TeamsDriver:
    """Raw activities to /api/messages; the bot's own messages land on the fake connector."""

    def __init__(self, fake: FakeConnector, service: Service, client: TestClient[Any, Any]) -> None:
        self.fake = fake
        self.service = service
        self.client = client

    async def post_json(self, body: Any) -> ClientResponse:
        return await self.client.post("/api/messages", json=body)

    async def post_raw(self, data: str | bytes) -> ClientResponse:
        return await self.client.post(
            "/api/messages", data=data, headers={"Content-Type": "application/json"}
        )

    def message(self, text: str = "post Hello from a hostile test") -> dict[str, Any]:
        return message_activity(text, service_url=self.fake.service_url)

    def invoke(self, verb: str = "draft_approve", data: Any = None) -> dict[str, Any]:
        return invoke_action_activity(
            verb,
            {"id": "1"} if data is None else data,
            service_url=self.fake.service_url,
            reply_to_id="1700000000001",
            user_id="29:bob",
            aad_object_id=BOB,
            user_name="Bob",
        )

    def texts(self) -> list[str]:
        return [str(body.get("text") or "") for body in self.fake.sent()]


@pytest.fixture
async def teams(database_url: str) -> AsyncIterator[TeamsDriver]:
    async with FakeConnector() as fake:
        settings = make_settings(
            database_url,
            teams_enabled=True,
            teams_allow_anonymous=True,
            approvers=(BOB, CAROL),
            admins=(BOB,),
        )
        service = build_service(settings)
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        yield TeamsDriver(fake, service, client)
        await client.close()
        await service.close()


TeamsCase = Callable[[TeamsDriver], Awaitable[ClientResponse]]


def mutated(activity: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> Any:
    copied = copy.deepcopy(activity)
    change(copied)
    return copied


def with_data(teams: TeamsDriver, verb: str, data: Any) -> dict[str, Any]:
    def change(activity: dict[str, Any]) -> None:
        activity["value"]["action"]["verb"] = verb
        activity["value"]["action"]["data"] = data

    result: dict[str, Any] = mutated(teams.invoke(), change)
    return result


TEAMS_CLEAR_ANSWERS: dict[str, TeamsCase] = {
    "malformed JSON": lambda t: t.post_raw("{not json"),
    "empty body": lambda t: t.post_raw(b""),
    "body that is not UTF-8": lambda t: t.post_raw(b"\xff\xfe{}"),
    "JSON array": lambda t: t.post_json([1, 2, 3]),
    "JSON string": lambda t: t.post_json("message"),
    "JSON null": lambda t: t.post_json(None),
    "JSON number": lambda t: t.post_json(42),
    "activity without type": lambda t: t.post_json(mutated(t.message(), lambda a: a.pop("type"))),
    "activity with a numeric type": lambda t: t.post_json(
        mutated(t.message(), lambda a: a.__setitem__("type", 5))
    ),
    "activity without conversation": lambda t: t.post_json(
        mutated(t.message(), lambda a: a.pop("conversation"))
    ),
    "reactions that are not a list": lambda t: t.post_json(
        mutated(t.message(), lambda a: a.update(type="messageReaction", reactionsAdded="like"))
    ),
    # Teams sends many activity types a bot may ignore (typing, installationUpdate...):
    # a silent 202 is the right answer, there is nobody to tell.
    "unknown activity type": lambda t: t.post_json(
        mutated(t.message(), lambda a: a.__setitem__("type", "somethingNew"))
    ),
    "message without sender": lambda t: t.post_json(mutated(t.message(), lambda a: a.pop("from"))),
    "card action with an unknown verb": lambda t: t.post_json(t.invoke("draft_nuke")),
    "card action with an unknown alert verb": lambda t: t.post_json(t.invoke("alert_nuke")),
    "card action with a non-numeric id": lambda t: t.post_json(
        with_data(t, "draft_approve", {"id": "abc"})
    ),
    "card action with a negative id": lambda t: t.post_json(
        with_data(t, "draft_cancel", {"id": -1})
    ),
    "card action with an empty id": lambda t: t.post_json(with_data(t, "alert_assign", {"id": ""})),
    "card action for a missing draft": lambda t: t.post_json(with_data(t, "refresh", {"id": "99"})),
    "card action with a null id": lambda t: t.post_json(
        with_data(t, "draft_approve", {"id": None})
    ),
    "card action with a list id": lambda t: t.post_json(with_data(t, "draft_approve", {"id": [1]})),
    "card action with a huge id": lambda t: t.post_json(
        with_data(t, "draft_approve", {"id": "9" * 30})
    ),
    "card action with an id beyond 32 bits": lambda t: t.post_json(
        with_data(t, "alert_handled", {"id": 2**31})
    ),
    "oversized body (2 MiB)": lambda t: t.post_json(t.message("post " + "x" * TWO_MIB)),
}

NO_ROUTE_501 = (
    "the SDK answers 501 (no route) when an adaptiveCard/action invoke's value is missing "
    "or malformed, because the card-action route only matches a well-formed value; "
    "adapters/chat/teams/integration.py TeamsIntegration.handle should answer 400"
)
TEAMS_SERVER_ERRORS: dict[str, tuple[TeamsCase, str]] = {
    "invoke without value": (
        lambda t: t.post_json(mutated(t.invoke(), lambda a: a.pop("value"))),
        NO_ROUTE_501,
    ),
    "invoke with a bogus value": (
        lambda t: t.post_json(mutated(t.invoke(), lambda a: a.__setitem__("value", "bogus"))),
        NO_ROUTE_501,
    ),
    "invoke without an action": (
        lambda t: t.post_json(
            mutated(t.invoke(), lambda a: a.__setitem__("value", {"trigger": "manual"}))
        ),
        NO_ROUTE_501,
    ),
    "card action without a verb": (
        lambda t: t.post_json(mutated(t.invoke(), lambda a: a["value"]["action"].pop("verb"))),
        NO_ROUTE_501,
    ),
    "card action whose data is not an object": (
        lambda t: t.post_json(with_data(t, "draft_approve", "1")),
        NO_ROUTE_501,
    ),
    "activity without serviceUrl": (
        lambda t: t.post_json(mutated(t.message(), lambda a: a.pop("serviceUrl"))),
        "adapters/chat/teams/integration.py TeamsIntegration.handle validates the activity but "
        "not serviceUrl; the SDK's create_connector_client raises TypeError: aiohttp's 500",
    ),
}


async def check_teams_answer(teams: TeamsDriver, response: ClientResponse) -> None:
    body = await response.text()
    assert_client_error_or_ok(response.status, body, ok=(200, 202))
    if response.status == 200 and body:
        answer = json.loads(body)
        if answer.get("type") == INVOKE_MESSAGE:
            assert str(answer.get("value", "")).strip(), answer
    for text in teams.texts():
        assert "Traceback" not in text


@pytest.mark.parametrize("case", list(TEAMS_CLEAR_ANSWERS))
async def test_hostile_teams_activity_gets_a_clear_answer_and_changes_nothing(
    teams: TeamsDriver, case: str
) -> None:
    response = await TEAMS_CLEAR_ANSWERS[case](teams)
    await check_teams_answer(teams, response)
    await assert_nothing_changed(teams.service)


async def test_teams_card_actions_that_make_no_sense_are_explained(teams: TeamsDriver) -> None:
    """The invoke is answered (200) with a message for the person who clicked; a verb that is
    not ours is an invalid request, answered with Universal Actions' error object."""
    for verb, data, expected, kind in (
        ("draft_nuke", {"id": "1"}, "", INVOKE_ERROR),
        ("draft_approve", {"id": "abc"}, "", INVOKE_MESSAGE),
        ("draft_approve", {"id": None}, "", INVOKE_MESSAGE),
        ("draft_approve", {"id": "99"}, "99", INVOKE_MESSAGE),
    ):
        response = await teams.post_json(with_data(teams, verb, data))
        assert response.status == 200
        answer = await response.json()
        assert answer["type"] == kind, answer
        value = str(answer["value"] if kind == INVOKE_MESSAGE else answer["value"]["message"])
        assert value.strip() and expected in value, answer
        assert "went wrong" not in value and "Traceback" not in value, answer
    assert FRIENDLY_ERROR not in teams.texts()
    await assert_nothing_changed(teams.service)


async def test_a_teams_sender_id_with_a_nul_gets_a_clear_reply(
    teams: TeamsDriver, request: pytest.FixtureRequest, backend: str
) -> None:
    known_bug_on_postgres(request, backend, f"{NUL_USER} (Teams: from.aadObjectId)")
    activity = mutated(teams.message(), lambda a: a["from"].__setitem__("aadObjectId", "a\x00b"))
    assert (await teams.post_json(activity)).status in (200, 202)
    await teams.fake.wait_for_sent(1)
    for text in teams.texts():
        assert CRASH_TEXT not in text and FRIENDLY_ERROR not in text, teams.texts()


async def test_a_teams_message_without_a_sender_gets_the_friendly_error(
    teams: TeamsDriver,
) -> None:
    response = await teams.post_json(mutated(teams.message(), lambda a: a.pop("from")))
    assert response.status in (200, 202)
    await teams.fake.wait_for_sent(1)
    assert teams.texts() == [FRIENDLY_ERROR]
    await assert_nothing_changed(teams.service)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(name, marks=known_bug(reason))
        for name, (_, reason) in TEAMS_SERVER_ERRORS.items()
    ],
)
async def test_hostile_teams_activity_is_never_a_server_error(
    teams: TeamsDriver, case: str
) -> None:
    build, _ = TEAMS_SERVER_ERRORS[case]
    response = await build(teams)
    try:
        await check_teams_answer(teams, response)
    finally:
        await assert_nothing_changed(teams.service)


async def test_after_every_hostile_teams_activity_nothing_exists(teams: TeamsDriver) -> None:
    statuses: dict[str, int] = {}
    for name, build in TEAMS_CLEAR_ANSWERS.items():
        statuses[name] = (await build(teams)).status
    for name, (build, _) in TEAMS_SERVER_ERRORS.items():
        statuses[name] = (await build(teams)).status
    assert all(status < 500 for name, status in statuses.items() if name in TEAMS_CLEAR_ANSWERS)
    await assert_nothing_changed(teams.service)


# -- Command text from a fuzzer, through the console --------------------------------------------

# Every verb of the registry (and the console's own), with the fuzzed text as its arguments.
PREFIXES = (
    "/post ",
    "/post --at ",
    "/post --account ",
    "/post --image ",
    "/post --image https://example.gov/a.png --alt ",
    "/reply ",
    "/reply sbx-0001 ",
    "/alerts subscribe ",
    "/alerts unsubscribe ",
    "/alerts list ",
    "/alerts digest ",
    "/alerts digest daily ",
    "/alerts held ",
    "/social ",
    "/social queue ",
    "/social help ",
    "/social approve ",
    "/social reject ",
    "/social reject 1 ",
    "/social cancel ",
    "/social edit ",
    "/social edit 1 ",
    "/social alt ",
    "/social alt 1 ",
    "/social retry ",
    "/social roles ",
    "/social roles grant ",
    "/social roles revoke ",
    "/social roles grant bob ",
    "/social audit ",
    "/social audit --since ",
    "/social watch ",
    "/social watch add journalists ",
    "/social watch remove ",
    "/social urgent ",
    "/social urgent add ",
    "/social urgent remove ",
    "/social stats ",
    "/react ",
    "/unreact ",
    "/react 1 ",
    "/as ",
    "/help ",
    "/",
)

WORDS = (
    "--at",
    "--account",
    "--image",
    "--alt",
    "--since",
    "--at=",
    "--nope",
    '"',
    "'",
    "\u201c",
    "\u201d",
    "\u2018",
    "tomorrow 9am",
    '"friday 15:30"',
    "in 2 hours",
    "2026-12-01T09:00",
    "yesterday",
    "https://example.gov/x.png",
    "http://",
    "ftp://x",
    "1",
    "#2",
    "0",
    "-1",
    "007",
    "\u0661\u0662",
    "OR",
    "AND",
    "NOT",
    "(",
    ")",
    "-",
    ",",
    "min_score:",
    "min_score:101",
    "from:",
    "lang:",
    "is:question",
    "mode:digest",
    "sentiment:",
    "approver",
    "admin",
    "@bob",
    "white_check_mark",
    "+1",
    ":+1:",
    "hourly",
    "daily",
    "25:61",
    "sbx-0001",
    "https://x.com/a/status/12345",
    "<@U123|bob>",
    "&amp;",
    "\x00",
    "\t",
    "\r",
    "\n",
    "\u200b",
    "\u202e",
    "\U0001f600",
    "`",
    "*",
    "%s",
    "{}",
    "\\",
)

TEXT = st.one_of(
    st.text(max_size=40),
    st.text(max_size=300),
    st.text(min_size=1000, max_size=2000),
    st.text(
        alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Po"]),
        max_size=60,
    ),
    st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=12).map(" ".join),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map("".join),
)


def hits_a_known_bug(text: str) -> bool:
    """Characters that are `str.isdigit()` but not decimal digits ('²', '①'): `/social alt`'s
    image number and `/alerts digest`'s time still pass them to `int()`. Each case is
    demonstrated by a test below, so the fuzzer left them out rather than failing
    at random on a known bug; drop this filter once those are fixed."""
    return False  # the bugs it filtered ('²', '①' passed to int()) are fixed


async def start_console(url: str) -> Conversation:
    # alice administers, so role, watch-list and urgent-term changes get past the role check.
    conversation = await Conversation.start(url, now=START, admins=("alice",))
    # A draft 1 exists, so `/social edit 1 ...` and friends reach the workflow.
    await conversation.say("/post Road closure on Main St tonight 8pm-6am.")
    return conversation


@pytest.fixture
async def console(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Conversation]:
    """One SQLite database for the whole fuzz run (not PostgreSQL: it has to be fast)."""
    target = tmp_path / "fuzz.db"
    shutil.copy(sqlite_template, target)
    conversation = await start_console(f"sqlite+aiosqlite:///{target}")
    yield conversation
    await conversation.close()


async def say_safely(console: Conversation, line: str) -> str:
    """What the console printed; an exception escaping the session fails the test."""
    console.session.user = "alice"  # `/as` may have switched to a fuzzed name
    try:
        return await console.say(line)
    except Exception as error:  # pragma: no cover - only on a bug
        raise AssertionError(
            f"{type(error).__name__} escaped the console for {line!r}: {error}"
        ) from error


def assert_clear_reply(line: str, said: str) -> None:
    assert said.strip(), f"the console printed nothing for {line!r}"
    assert "Traceback" not in said, said
    assert CRASH_TEXT not in said, f"{line!r} crashed: {said}"


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(prefixes=st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3, unique=True), text=TEXT)
async def test_fuzzed_command_text_never_crashes(
    console: Conversation, prefixes: list[str], text: str
) -> None:
    """The same fuzzed text as the arguments of up to three verbs per example."""
    assume(not hits_a_known_bug(text))
    for prefix in prefixes:
        line = prefix + text
        said = await say_safely(console, line)
        if take_word(line.strip()[1:])[0].lower() in ("quit", "exit"):
            assert CRASH_TEXT not in said  # `/quit` ends the session without a word
            continue
        assert_clear_reply(line, said)


async def test_the_fuzz_console_starts_with_a_draft(console: Conversation) -> None:
    said = await console.say("/social queue")
    assert "#1 [pending" in said


@pytest.mark.parametrize(
    "line",
    [
        "/social approve \u00b2",
        "/alerts unsubscribe \u2460",
        "/social approve \u0661",
        "/social approve " + "9" * 30,
        "/social edit 99999999999999999999 New text",
        "/social approve 2147483648",
        "/social reject #-1 Wrong street",
        "/react \u00b2 white_check_mark",
        "/react 99999999999999999999 white_check_mark",
        "/unreact 2147483648 +1",
        "/social alt 1 99999999999999999999 A map of the detour",
        "/alerts digest daily 0099999999999999999999:00",
        pytest.param(
            "/social alt 1 \u00b3 A map of the detour",
            marks=known_bug(
                "commands/social.py alt: `number_word.isdigit()` is true for '\u00b3', then "
                "int(number_word) raises ValueError: the generic crash reply"
            ),
        ),
        pytest.param(
            "/alerts digest daily \u00b2:00",
            marks=known_bug(
                "chatops/listening/subscriptions.py set_digest: `p.isdigit()` is true "
                "for '\u00b2', then int(parts[0]) raises ValueError: the generic crash reply"
            ),
        ),
    ],
)
async def test_odd_numbers_get_a_clear_reply(converse: Any, line: str) -> None:
    """Ids and numbers that look numeric to `str.isdigit()`, or overflow the database."""
    chat = await converse(user="alice")
    await chat.say("/post Road closure on Main St tonight.")
    before = await chat.say("/social queue")
    assert_clear_reply(line, await say_safely(chat, line))
    assert await chat.say("/social queue") == before


@pytest.mark.parametrize(
    "line",
    [
        "/post Road closure\x00 on Main St",
        "/alerts subscribe flood\x00",
        "/social roles grant bob\x00 approver",
        "/social urgent add mud\x00slide",
        "/social watch add journalists maya\x00",
        "/reply sbx-0001\x00 Thanks",
    ],
)
async def test_a_nul_character_gets_a_clear_reply(converse: Any, line: str) -> None:
    """PostgreSQL text cannot hold NUL; the reply must still be clear on both backends."""
    chat = await converse(user="alice", admins=("alice",))
    assert_clear_reply(line, await say_safely(chat, line))


async def test_after_a_nul_user_name_the_console_still_works(
    converse: Any, request: pytest.FixtureRequest, backend: str
) -> None:
    known_bug_on_postgres(request, backend, f"{NUL_USER} (console: `/as bob\\x00`)")
    chat = await converse(user="alice")
    said = await chat.say("/as bob\x00", "/post Sandbags at Pier 3.", "/social queue")
    assert CRASH_TEXT not in said and "Traceback" not in said, said
