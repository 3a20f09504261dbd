"""Teams: real Activity JSON posted to /api/messages, the bot's answers caught by a fake
Bot Framework connector, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from adapters.chat.web.app import build_web_app
from adapters.social.sandbox.feed import demo_feed
from chatops.chat.cards import draft_card
from chatops.domain.errors import ChannelUnavailable
from chatops.domain.types import Actor, ChannelRef, DraftState
from chatops.drafts.workflow import NewDraft
from chatops.service import Service, build_service
from chatops.storage.conversations import ConversationStore
from chatops.storage.drafts import DraftStore
from tests.adaptive_cards import (
    assert_fits_teams,
    assert_teams_card,
    markdown_strings,
    nodes,
    plain_strings,
)
from tests.fakes.teams import (
    DEFAULT_TENANT_ID,
    FakeBotFrameworkKeys,
    FakeConnector,
    invoke_action_activity,
    message_activity,
    reaction_activity,
    submit_action_activity,
)
from tests.harness import make_settings

CARD_TYPE = "application/vnd.microsoft.card.adaptive"

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
        if body.get("type") == CARD_TYPE:
            assert_teams_card(body["value"])
            assert_fits_teams(body)
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

    def card_activities(self) -> list[dict[str, Any]]:
        """Every card the connector received, new or updated, as the whole activity sent."""
        bodies = self.fake.sent() + [call.body for call in self.fake.updated() if call.body]
        return [body for body in bodies if body.get("attachments")]

    def assert_cards_valid(self) -> None:
        """Every card sent passes the published schema and Teams' own rules."""
        for activity in self.card_activities():
            [attachment] = activity["attachments"]
            assert attachment["contentType"] == CARD_TYPE
            assert_teams_card(attachment["content"])
            assert_fits_teams(activity)


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
        driver = TeamsDriver(fake, service, client)
        yield driver
        await client.close()
        await service.close()
        driver.assert_cards_valid()


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
            database_url,
            teams_enabled=True,
            teams_allow_anonymous=True,
            approvers=(BOB, CAROL),
            required_approvals=2,
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


def teams_package() -> Any:
    """teams/package.py, the script `make teams-package` runs (it is not an importable package)."""
    spec = importlib.util.spec_from_file_location("teams_package", ROOT / "teams" / "package.py")
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    return package


ROOT = Path(__file__).resolve().parents[1]
MANIFEST_SCHEMA = json.loads(
    (ROOT / "teams" / "schema" / "MicrosoftTeams.v1.17.schema.json").read_text(encoding="utf-8")
)
PACKAGE_VALUES = {
    "TEAMS_APP_ID": "11111111-2222-3333-4444-555555555555",
    "AGENCY_NAME": "Port Alder",
    "AGENCY_WEBSITE": "https://pa.example.gov",
}


def built_manifest(target: Path) -> dict[str, Any]:
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.read("color.png").startswith(b"\x89PNG")
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    # The published schema (draft-04, as it declares), checked here independently of package.py.
    errors = list(jsonschema.Draft4Validator(MANIFEST_SCHEMA).iter_errors(manifest))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert manifest["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json")
    return manifest


def test_the_app_package_declares_the_bot_scopes_and_every_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from commands import build_registry

    package = teams_package()
    app_id = PACKAGE_VALUES["TEAMS_APP_ID"]
    manifest = built_manifest(package.build(tmp_path / "chatops-teams.zip", PACKAGE_VALUES))
    [bot] = manifest["bots"]
    assert manifest["id"] == bot["botId"] == app_id
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}
    titles = {command["title"] for command in bot["commandLists"][0]["commands"]}
    assert titles == set(build_registry().commands)
    with pytest.raises(SystemExit, match="TEAMS_APP_ID"):
        package.build(tmp_path / "x.zip", {**PACKAGE_VALUES, "TEAMS_APP_ID": ""})


@pytest.mark.parametrize(
    ("name", "value", "where", "says"),
    [
        (
            "AGENCY_NAME",
            "City of Port Alder Department of Emergency Management",
            "developer.name",
            "at most 32 characters",
        ),
        ("AGENCY_WEBSITE", "pa.example.gov", "developer.websiteUrl", "https://"),
        ("TEAMS_APP_ID", "chatops-bot", "id", "GUID"),
    ],
)
def test_the_app_package_refuses_what_the_teams_schema_refuses(  # type: ignore[no-untyped-def]
    tmp_path, name: str, value: str, where: str, says: str
) -> None:
    """Teams would refuse the upload: the admin hears why, and which setting to change."""
    target = tmp_path / "chatops-teams.zip"
    with pytest.raises(SystemExit) as refused:
        teams_package().build(target, {**PACKAGE_VALUES, name: value})
    message = str(refused.value)
    for part in (name, where, says, value):
        assert part in message, message
    assert not target.exists()


def test_the_app_package_takes_any_agency_name_as_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A quote or backslash in a name is the name, not JSON."""
    name = 'Port "Alder" \\ Water'
    target = tmp_path / "chatops-teams.zip"
    manifest = built_manifest(
        teams_package().build(target, {**PACKAGE_VALUES, "AGENCY_NAME": name})
    )
    assert manifest["developer"]["name"] == name


# -- identity: who may talk to /api/messages ------------------------------------------------

APP_ID = "11111111-2222-3333-4444-555555555555"
# A service URL as Teams names it in the token and the activity (public cloud, Americas).
TEAMS_SERVICE = "https://smba.trafficmanager.net/amer/"


async def a_pending_draft(service: Service) -> int:
    author = Actor("teams", ALICE, "Alice", workspace=DEFAULT_TENANT_ID)
    channel = ChannelRef("teams", "19:channel1@thread.tacv2", DEFAULT_TENANT_ID)
    draft = await service.core.workflow.create(
        author, channel, NewDraft(text="Sandbags at Pier 3.")
    )
    return draft.id


async def stored_reference(service: Service) -> dict[str, Any] | None:
    async with service.db.transaction() as session:
        return await ConversationStore(session).reference("teams", "19:channel1@thread.tacv2")


async def test_anonymous_teams_without_the_opt_in_refuses_everything(database_url) -> None:
    """TEAMS_ENABLED=true and no app id: an approver's id in a forged activity approves nothing,
    and the stored conversation reference (where alerts go) is not replaced."""
    async with FakeConnector() as fake:
        settings = make_settings(database_url, teams_enabled=True, approvers=(BOB,))
        service = build_service(settings)
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        try:
            draft_id = await a_pending_draft(service)
            real = {"serviceUrl": TEAMS_SERVICE, "conversation": {"id": "19:channel1@thread.tacv2"}}
            async with service.db.transaction() as session:
                await ConversationStore(session).remember(
                    "teams", "19:channel1@thread.tacv2", real, now=service.clock.now()
                )
            forged = invoke_action_activity(
                "draft_approve",
                {"id": str(draft_id), "kind": "draft"},
                service_url=fake.service_url,
                reply_to_id="1700000000001",
                user_id="29:bob",
                aad_object_id=BOB,
                user_name="Bob",
            )
            answer = await client.post("/api/messages", json=forged)
            assert answer.status == 401
            message = message_activity("social queue", service_url=fake.service_url)
            assert (await client.post("/api/messages", json=message)).status == 401
            assert (await service.core.workflow.get(draft_id)).state is DraftState.PENDING
            assert await stored_reference(service) == real
            assert fake.calls == []
        finally:
            await client.close()
            await service.close()


class SignedTeams:
    """The bot with an app id, and a Bot Connector that signs what it posts to it."""

    def __init__(
        self, fake: FakeConnector, keys: FakeBotFrameworkKeys, service: Service, client: Any
    ) -> None:
        self.fake = fake
        self.keys = keys
        self.service = service
        self.client = client

    async def post(self, activity: dict[str, Any], *, claimed: str) -> ClientResponse:
        token = self.keys.token(app_id=APP_ID, service_url=claimed)
        response: ClientResponse = await self.client.post(
            "/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"}
        )
        return response

    async def nothing_happened(self, draft_id: int) -> None:
        """No state changed, nothing stored, nothing sent anywhere (the bot never even asked
        for its own token, which would have gone to the network)."""
        assert (await self.service.core.workflow.get(draft_id)).state is DraftState.PENDING
        assert await stored_reference(self.service) is None
        assert self.fake.calls == []


@pytest.fixture
async def signed(database_url: str) -> AsyncIterator[SignedTeams]:
    async with FakeConnector() as fake, FakeBotFrameworkKeys() as keys:
        settings = make_settings(
            database_url,
            teams_app_id=APP_ID,
            teams_app_password="not-used-in-this-test",
            teams_tenant_id=DEFAULT_TENANT_ID,
            approvers=(BOB,),
        )
        service = build_service(settings)
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        with keys.trusted():
            yield SignedTeams(fake, keys, service, client)
        await client.close()
        await service.close()


def bob_approves(draft_id: int, service_url: str, **overrides: Any) -> dict[str, Any]:
    return invoke_action_activity(
        "draft_approve",
        {"id": str(draft_id), "kind": "draft"},
        service_url=service_url,
        reply_to_id="1700000000001",
        user_id="29:bob",
        aad_object_id=BOB,
        user_name="Bob",
        **overrides,
    )


async def test_a_signed_activity_from_another_channel_is_refused(signed: SignedTeams) -> None:
    draft_id = await a_pending_draft(signed.service)
    activity = bob_approves(draft_id, TEAMS_SERVICE)
    activity["channelId"] = "webchat"
    answer = await signed.post(activity, claimed=TEAMS_SERVICE)
    assert answer.status == 403, await answer.text()
    assert "msteams" in (await answer.json())["error"]
    await signed.nothing_happened(draft_id)


@pytest.mark.parametrize("where", ["conversation", "channelData", "both"])
async def test_a_signed_activity_from_another_tenant_is_refused(
    signed: SignedTeams, where: str
) -> None:
    """Nothing changes and no reply goes to the serviceUrl the request names."""
    draft_id = await a_pending_draft(signed.service)
    activity = bob_approves(draft_id, signed.fake.service_url)
    if where in ("conversation", "both"):
        activity["conversation"]["tenantId"] = "tenant-2"
    if where in ("channelData", "both"):
        activity["channelData"]["tenant"]["id"] = "tenant-2"
    answer = await signed.post(activity, claimed=signed.fake.service_url)
    assert answer.status == 403, await answer.text()
    assert "tenant" in (await answer.json())["error"]
    await signed.nothing_happened(draft_id)


@pytest.mark.parametrize(
    "activity_url",
    [
        "http://127.0.0.1:9/",  # a host the token does not name (and no Teams host at all)
        "https://emea.smba.trafficmanager.net/emea/",  # a Teams host, but not the token's
    ],
)
async def test_a_service_url_the_token_does_not_name_is_refused(
    signed: SignedTeams, activity_url: str
) -> None:
    """The reply would carry the bot's own token to that host: refused before any turn."""
    draft_id = await a_pending_draft(signed.service)
    activity = bob_approves(draft_id, activity_url)
    answer = await signed.post(activity, claimed=TEAMS_SERVICE)
    assert answer.status == 401, await answer.text()
    assert "Service URL" in (await answer.json())["error"]
    await signed.nothing_happened(draft_id)


async def test_proactive_sends_go_only_to_teams_hosts(signed: SignedTeams) -> None:
    """A stored reference naming another host (stored before this check existed) is not used:
    the bot's token would go with the alert."""
    reference = message_activity("hi", service_url=signed.fake.service_url)
    async with signed.service.db.transaction() as session:
        await ConversationStore(session).remember(
            "teams",
            "19:channel1@thread.tacv2",
            {"serviceUrl": reference["serviceUrl"], "conversation": reference["conversation"]},
            now=signed.service.clock.now(),
        )
    assert signed.service.teams is not None
    channel = ChannelRef("teams", "19:channel1@thread.tacv2", DEFAULT_TENANT_ID)
    with pytest.raises(ChannelUnavailable):
        await signed.service.teams.chat.post_message(channel, "Alert")
    assert signed.fake.calls == []


# -- outside text is data: what Teams would render as markup --------------------------------

DISGUISED_LINK = "[Official evacuation form](https://evil.example)"
MARKUP = f"{DISGUISED_LINK} **URGENT** _now_ {{{{DATE(2017-02-14T06:00:00Z, SHORT)}}}}"


WORD_JOINER = "\u2060"  # zero width: a reader sees the text without it


def assert_literal(card: dict[str, Any], *outside: str) -> None:
    """Teams renders none of it as markdown or as a date, and shows each string in full."""
    for rendered in markdown_strings(card):
        for marker in ("evil.example", "**", "{{"):
            assert marker not in rendered, rendered
    runs = [node["text"] for node in nodes(card) if node.get("type") == "TextRun"]
    assert not any("{{DATE(" in run for run in runs), "a text run would format the date"
    visible = "\n".join(plain_strings(card)).replace(WORD_JOINER, "")
    for text in outside:
        assert text in visible, (text, visible)


async def test_a_draft_with_markdown_is_shown_as_written(teams) -> None:
    assert await teams.say(f"post Evacuate Pier 3 {MARKUP}") == 202
    [card] = teams.cards()
    assert_literal(card, MARKUP)
    answer = await teams.click(
        "draft_approve", approve_data(card), card=await teams.card_id(), by=BOB
    )
    assert_literal(answer["value"], MARKUP)
    await teams.service.publisher.run_once()
    [*_, published] = await teams.fake.wait_for_updates(2)
    assert published.body is not None
    live = published.body["attachments"][0]["content"]
    assert_literal(live, MARKUP)
    # The bot's own link stays a link: a text run that opens the live post.
    [link] = [
        run
        for run in plain_nodes(live)
        if run.get("selectAction", {}).get("type") == "Action.OpenUrl"
    ]
    assert link["text"] == "View the live post"
    assert link["selectAction"]["url"].startswith("https://sandbox.invalid/")


def plain_nodes(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(card) if node.get("type") == "TextRun"]


async def test_a_mention_with_markdown_in_its_text_and_author_is_shown_as_written(teams) -> None:
    await teams.say("alerts subscribe trapped")
    before = len(teams.cards())
    original = next(m for m in demo_feed() if "trapped" in m.text.lower())
    name = "**Mayor** [Port Alder City](https://evil.example)"
    mention = replace(
        original,
        text=f"{original.text} {MARKUP}",
        author=replace(original.author, name=name),
    )
    assert (await teams.service.pipeline.ingest([mention])).alerts == 1
    assert await teams.service.delivery.deliver_pending() == 1
    alert = teams.cards()[before]
    assert_literal(alert, MARKUP, name)


async def test_plain_messages_are_sent_as_plain_text(teams) -> None:
    """Command replies, digests and notes quote outside text: Teams must not render it."""
    await teams.say(f"post Pier 3 {MARKUP}")
    await teams.say("social queue")
    [queue] = [body for body in teams.fake.sent() if "#1" in str(body.get("text"))]
    assert queue["textFormat"] == "plain" and MARKUP[:40] in queue["text"]
    assert teams.service.teams is not None
    channel = ChannelRef("teams", "19:channel1@thread.tacv2", DEFAULT_TENANT_ID)
    await teams.service.teams.chat.post_message(channel, f"Digest: {MARKUP}")
    digest = teams.fake.sent()[-1]
    assert digest["textFormat"] == "plain" and digest["text"] == f"Digest: {MARKUP}"
    for body in teams.fake.sent():
        if body.get("text"):
            assert body["textFormat"] == "plain", body


# -- what real Teams accepts: Universal Actions answers, fallbacks, size --------------------


async def test_a_card_action_that_is_not_ours_gets_an_error_answer(teams) -> None:
    """Universal Actions: an invalid request is a 400 `application/vnd.microsoft.error` with
    an error object; a refusal of a valid one is a message for the person."""
    await teams.say("post Mine.")
    card = await teams.card_id()
    for verb, data in (("draft_nuke", {"id": "1"}), ("alert_nuke", {"id": "1"})):
        answer = await teams.click(verb, data, card=card, by=BOB)
        assert answer["statusCode"] == 400, answer
        assert answer["type"] == "application/vnd.microsoft.error", answer
        assert answer["value"]["code"] == "BadRequest" and answer["value"]["message"], answer
    own = await teams.click("draft_approve", approve_data(teams.cards()[0]), card=card, by=ALICE)
    assert own["statusCode"] == 200
    assert own["type"] == "application/vnd.microsoft.activity.message"


async def test_the_action_submit_fallback_does_what_the_button_says(teams) -> None:
    """A client without Universal Actions sends the fallback as a message with the data."""
    await teams.say("post Fallback please.")
    card = await teams.card_id()
    [shown] = teams.cards()
    [approve] = [a for a in shown["actions"] if a.get("verb") == "draft_approve"]
    submitted = submit_action_activity(
        approve["fallback"]["data"],
        service_url=teams.fake.service_url,
        reply_to_id=card,
        **teams.who(BOB),
    )
    assert (await teams.client.post("/api/messages", json=submitted)).status in (200, 202)
    assert (await teams.service.core.workflow.get(1)).state is DraftState.APPROVED
    updates = await teams.fake.wait_for_updates(1)
    assert updates[-1].activity_id == card
    assert "Approved" in card_text(updates[-1].body or {})
    # A refusal is said in the conversation, as plain text.
    again = submit_action_activity(
        approve["fallback"]["data"],
        service_url=teams.fake.service_url,
        reply_to_id=card,
        **teams.who(ALICE),
    )
    await teams.client.post("/api/messages", json=again)
    assert teams.fake.sent()[-1]["textFormat"] == "plain"


async def test_a_5000_character_cjk_draft_card_fits_what_teams_accepts(teams) -> None:
    """The whole activity the connector receives, not just the card, stays under ~28 KB."""
    await teams.say("post Hello.")
    text = "".join(chr(0x4E00 + (i * 37) % 20000) for i in range(5000))
    draft = await teams.service.core.workflow.get(1)
    card = draft_card(
        replace(draft, text=text), zone=teams.service.core.zone, labels=lambda network: "Sandbox"
    )
    assert teams.service.teams is not None
    channel = ChannelRef("teams", "19:channel1@thread.tacv2", DEFAULT_TENANT_ID)
    await teams.service.teams.chat.post_card(channel, card)
    sent = teams.fake.sent()[-1]
    assert_fits_teams(sent)
    assert json.dumps(sent, ensure_ascii=False).count(text) == 1


async def test_a_reply_from_an_alert_whose_card_fails_comes_back_to_the_person(teams) -> None:
    """The draft is committed before its card is sent: when Teams refuses the card, the
    answer to the click (seen only by the person who clicked) carries it, and says so."""
    await teams.say("alerts subscribe trapped")
    mention = next(m for m in demo_feed() if "trapped" in m.text.lower())
    assert (await teams.service.pipeline.ingest([mention])).alerts == 1
    assert await teams.service.delivery.deliver_pending() == 1
    cards_before = len(teams.cards())
    teams.fake.fail_next(400)
    replied = await teams.click(
        "alert_reply",
        {"id": "1", "kind": "alert", "text": "Crews are on the way."},
        card="x",
        by=BOB,
    )
    assert replied["statusCode"] == 200
    answer = card_text(replied["value"])
    assert "Reply 1 created" in answer and "/social show 1" in answer
    assert "Reply draft 1" in answer
    assert len(teams.cards()) == cards_before  # nothing reached the channel
    assert (await teams.service.core.workflow.get(1)).text == "Crews are on the way."
