"""Teams: real Activity JSON posted to /api/messages, the bot's answers caught by a fake
Bot Framework connector, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.sandbox.feed import demo_feed
from adapters.web.app import build_web_app
from chatops.domain.types import DraftState
from chatops.service import Service, build_service
from chatops.storage.drafts import DraftStore
from tests.fakes.teams import (
    FakeConnector,
    invoke_action_activity,
    message_activity,
    reaction_activity,
)
from tests.harness import make_settings

ALICE = "00000000-0000-0000-0000-00000000a11c"
BOB = "00000000-0000-0000-0000-000000000b0b"
CAROL = "00000000-0000-0000-0000-0000000ca201"
MALLORY = "00000000-0000-0000-0000-0000000a11e0"
PEOPLE = {
    ALICE: ("29:alice", "Alice"),
    BOB: ("29:bob", "Bob"),
    CAROL: ("29:carol", "Carol"),
    MALLORY: ("29:mal", "Mallory"),
}


class TeamsDriver:
    def __init__(self, fake: FakeConnector, service: Service, client: TestClient[Any, Any]) -> None:
        self.fake = fake
        self.service = service
        self.client = client

    def who(self, aad: str) -> dict[str, Any]:
        user_id, name = PEOPLE[aad]
        return {"user_id": user_id, "aad_object_id": aad, "user_name": name}

    async def say(self, text: str, *, by: str = ALICE) -> int:
        activity = message_activity(text, service_url=self.fake.service_url, **self.who(by))
        response = await self.client.post("/api/messages", json=activity)
        return response.status

    async def click(self, verb: str, data: dict[str, Any], *, card: str, by: str) -> dict[str, Any]:
        activity = invoke_action_activity(
            verb, data, service_url=self.fake.service_url, reply_to_id=card, **self.who(by)
        )
        response = await self.client.post("/api/messages", json=activity)
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def react(self, kind: str, *, card: str, by: str, added: bool = True) -> None:
        activity = reaction_activity(
            [kind], added=added, service_url=self.fake.service_url, reply_to_id=card, **self.who(by)
        )
        response = await self.client.post("/api/messages", json=activity)
        assert response.status in (200, 202)

    async def card_id(self, draft_id: int = 1) -> str:
        async with self.service.db.transaction() as session:
            [card] = await DraftStore(session).cards(draft_id)
        return card.message_id

    def texts(self) -> list[str]:
        return [str(body.get("text") or "") for body in self.fake.sent()]

    def cards(self) -> list[dict[str, Any]]:
        return [
            body["attachments"][0]["content"]
            for body in self.fake.sent()
            if body.get("attachments") and "adaptive" in body["attachments"][0]["contentType"]
        ]


@pytest.fixture
async def teams(database_url: str) -> AsyncIterator[TeamsDriver]:
    async with FakeConnector() as fake:
        settings = make_settings(
            database_url, teams_enabled=True, approvers=(BOB, CAROL), admins=(BOB,)
        )
        service = build_service(settings)
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        yield TeamsDriver(fake, service, client)
        await client.close()
        await service.close()


def card_text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def approve_data(card: dict[str, Any]) -> dict[str, Any]:
    """The data a card's Approve action sends, as Teams would send it when clicked."""
    [action] = [a for a in card["actions"] if a.get("verb") == "draft_approve"]
    return dict(action["data"])


async def test_post_in_a_channel_with_the_mention_posts_a_card_and_a_receipt(teams) -> None:
    assert await teams.say("<at>chatops</at> post Road closure on Main St tonight.") == 202
    [card] = teams.cards()
    text = card_text(card)
    assert "Post draft 1 [SANDBOX]" in text
    assert "Road closure on Main St tonight." in text
    verbs = [a.get("verb") or a["card"]["actions"][0]["verb"] for a in card["actions"]]
    assert verbs == ["draft_approve", "draft_reject", "draft_edit", "draft_cancel"]
    assert any("Draft 1 created" in t for t in teams.texts())
    draft = await teams.service.core.workflow.get(1)
    assert draft.author == ALICE and draft.author_platform == "teams"


async def test_every_command_family_is_served(teams) -> None:
    await teams.say("reply sbx-0001 Main St reopens at 6am.")
    assert "Reply draft 1" in card_text(teams.cards()[0])
    await teams.say("alerts subscribe flood OR sandbags")
    await teams.say("/alerts list")
    await teams.say("social queue")
    await teams.say("social help")
    texts = "\n".join(teams.texts())
    assert "Subscribed (id 1)" in texts
    assert "1: flood OR sandbags" in texts
    assert "#1 [pending, 0/1 approvals]" in texts
    assert "What I can do" in texts
    await teams.say("hello there")
    assert "try `social help`" in teams.texts()[-1]


async def test_approve_by_card_action_refreshes_the_card_and_publishes(teams) -> None:
    await teams.say("post Sandbags at Pier 3.")
    card = await teams.card_id()
    answer = await teams.click("draft_approve", approve_data(teams.cards()[0]), card=card, by=BOB)
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Approved" in card_text(answer["value"])
    await teams.service.publisher.run_once()
    assert (await teams.service.core.workflow.get(1)).state is DraftState.PUBLISHED
    updates = await teams.fake.wait_for_updates(2)
    assert all(call.activity_id == card for call in updates)
    assert "https://sandbox.invalid/" in json.dumps(updates[-1].body)


async def test_reject_with_a_reason_edit_and_cancel_by_card_action(teams) -> None:
    await teams.say("post First.")
    await teams.say("post Second.")
    first, second = await teams.card_id(1), await teams.card_id(2)
    rejected = await teams.click(
        "draft_reject", {"id": "1", "reason": "Wrong street"}, card=first, by=BOB
    )
    assert "Rejected" in card_text(rejected["value"])
    assert (await teams.service.core.workflow.get(1)).state is DraftState.REJECTED
    assert any("rejected by Bob: Wrong street" in t for t in teams.texts())

    await teams.click("draft_approve", approve_data(teams.cards()[1]), card=second, by=BOB)
    edited = await teams.click(
        "draft_edit", {"id": "2", "text": "Second, corrected."}, card=second, by=ALICE
    )
    assert "Second, corrected." in card_text(edited["value"])
    draft = await teams.service.core.workflow.get(2)
    assert draft.approvals == () and draft.state is DraftState.PENDING
    cancelled = await teams.click("draft_cancel", {"id": "2"}, card=second, by=ALICE)
    assert "Cancelled" in card_text(cancelled["value"])


async def test_refusals_are_friendly_messages_not_errors(teams) -> None:
    await teams.say("post Mine.")
    card = await teams.card_id()
    own = await teams.click("draft_approve", approve_data(teams.cards()[0]), card=card, by=ALICE)
    assert own["type"] == "application/vnd.microsoft.activity.message"
    assert "you cannot approve it yourself" in own["value"]
    stranger = await teams.click(
        "draft_approve", approve_data(teams.cards()[0]), card=card, by=MALLORY
    )
    assert "needs the approver role" in stranger["value"]
    assert (await teams.service.core.workflow.get(1)).state is DraftState.PENDING


async def test_reactions_approve_refuse_and_withdraw(database_url) -> None:
    async with FakeConnector() as fake:
        settings = make_settings(
            database_url, teams_enabled=True, approvers=(BOB, CAROL), required_approvals=2
        )
        service = build_service(settings)
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        try:
            teams = TeamsDriver(fake, service, client)
            await teams.say("post Reactions please.")
            card = await teams.card_id()
            await teams.react("like", card=card, by=ALICE)
            await teams.react("like", card=card, by=MALLORY)
            texts = "\n".join(teams.texts())
            assert "you cannot approve it yourself" in texts
            assert "needs the approver role" in texts
            await teams.react("heart", card=card, by=BOB)
            assert (await service.core.workflow.get(1)).approvals == ()
            await teams.react("like", card=card, by=BOB)
            assert (await service.core.workflow.get(1)).approvers == (BOB,)
            await teams.react("like", card=card, by=BOB, added=False)
            assert (await service.core.workflow.get(1)).approvals == ()
            await teams.react("like", card=card, by=BOB)
            await teams.react("checkmark", card=card, by=CAROL)
            assert (await service.core.workflow.get(1)).state is DraftState.APPROVED
        finally:
            await client.close()
            await service.close()


async def test_alerts_are_sent_proactively_to_a_subscribed_channel(teams) -> None:
    await teams.say("alerts subscribe trapped")
    before = len(teams.cards())
    mention = next(m for m in demo_feed() if "trapped" in m.text.lower())
    assert (await teams.service.pipeline.ingest([mention])).alerts == 1
    assert await teams.service.delivery.deliver_pending() == 1
    alert = teams.cards()[before]
    assert "Question on Sandbox" in card_text(alert)
    assert [a.get("verb") or a["card"]["actions"][0]["verb"] for a in alert["actions"]] == [
        "alert_reply",
        "alert_assign",
        "alert_handled",
    ]
    sent_to = [c for c in teams.fake.calls if c.body and c.body.get("attachments")][-1]
    assert sent_to.conversation_id == "19:channel1@thread.tacv2"
    assigned = await teams.click("alert_assign", {"id": "1", "kind": "alert"}, card="x", by=BOB)
    assert "Assigned to" in card_text(assigned["value"])
    replied = await teams.click(
        "alert_reply",
        {"id": "1", "kind": "alert", "text": "Crews are on the way."},
        card="x",
        by=BOB,
    )
    assert replied["statusCode"] == 200
    draft = await teams.service.core.workflow.get(1)
    assert draft.reply_to_id == mention.external_id


async def test_malformed_activities_get_a_4xx(teams) -> None:
    bad_json = await teams.client.post(
        "/api/messages", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status == 400
    no_type = await teams.client.post("/api/messages", json={"text": "hi"})
    assert no_type.status == 400
    wrong_shape = await teams.client.post(
        "/api/messages", json={"type": "message", "from": "nobody"}
    )
    assert wrong_shape.status == 400


async def test_missing_or_bad_tokens_get_401_when_an_app_id_is_configured(database_url) -> None:
    settings = make_settings(
        database_url,
        teams_app_id="11111111-2222-3333-4444-555555555555",
        teams_app_password="not-used-in-this-test",
        teams_tenant_id="tenant-1",
    )
    service = build_service(settings)
    client = TestClient(TestServer(build_web_app(service)))
    await client.start_server()
    try:
        activity = message_activity("post Sneaky", service_url="http://127.0.0.1:9/")
        missing = await client.post("/api/messages", json=activity)
        assert missing.status == 401
        forged = await client.post(
            "/api/messages", json=activity, headers={"Authorization": "Bearer not.a.jwt"}
        )
        assert forged.status == 401
        assert (await service.core.workflow.queue()) == []
        assert (await client.get("/healthz")).status == 200  # the check is on /api/messages only
    finally:
        await client.close()
        await service.close()


def test_the_app_package_declares_the_bot_scopes_and_every_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import importlib.util
    import zipfile
    from pathlib import Path

    from commands import build_registry

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("teams_package", root / "teams" / "package.py")
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    app_id = "11111111-2222-3333-4444-555555555555"
    values = {
        "TEAMS_APP_ID": app_id,
        "AGENCY_NAME": "Port Alder",
        "AGENCY_WEBSITE": "https://pa.example.gov",
    }
    target = package.build(tmp_path / "chatops-teams.zip", values)
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png").startswith(b"\x89PNG")
    [bot] = manifest["bots"]
    assert manifest["id"] == bot["botId"] == app_id
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}
    titles = {command["title"] for command in bot["commandLists"][0]["commands"]}
    assert titles == set(build_registry().commands)
    with pytest.raises(SystemExit, match="TEAMS_APP_ID"):
        package.build(tmp_path / "x.zip", {**values, "TEAMS_APP_ID": ""})
