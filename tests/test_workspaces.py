"""Workspaces are not tenants of each other.

Two Slack workspaces install the app through the real OAuth flow (A is T0001, B is T0002),
and two Teams tenants talk to one bot: nothing A owns (drafts, the queue, App Home, audit
events, role grants, subscriptions) is visible to B or decided from B, on any path, and a
refusal reads like a draft that does not exist. An allow list limits which workspaces may
install and use the bot. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from alembic.config import Config

from adapters.chat.web.app import build_web_app
from chatops.domain.types import DraftState, Role
from chatops.service import build_service
from chatops.storage.audit import AuditLog
from chatops.storage.conversations import ConversationStore
from chatops.storage.database import MIGRATIONS, Database
from chatops.storage.drafts import DraftStore
from chatops.storage.roles import RoleStore
from tests.conftest import START, scratch_postgres
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import (
    FakeConnector,
    invoke_action_activity,
    message_activity,
    reaction_activity,
)
from tests.harness import make_settings
from tests.slack_harness import (
    ADMIN,
    APPROVER,
    AUTHOR,
    STRANGER,
    SlackDriver,
    block_text,
    eventually,
)

CLIENT_ID = "111.222"
TEAM_A, CHANNEL_A = "T0001", "C0001"
TEAM_B, CHANNEL_B = "T0002", "C0200"
B_APPROVER = "UBAPPROVE"
A_GRANTEE = "UAGRANTED"
NO_DRAFT = "There is no draft 1."
_names = itertools.count(1)


async def install(driver: SlackDriver, team: str, name: str) -> tuple[int, str]:
    """Run Slack's OAuth install for `team` in a browser's steps; the status and page."""
    code = f"code-{team}-{next(_names)}"
    bot_user = "UBOT" if team == TEAM_A else f"UBOT{team}"
    driver.fake.install_into(code, team, name, bot_user)
    start = await driver.client.get("/slack/install", allow_redirects=False)
    page = await start.text()
    link = page.split('href="https://slack.com/oauth', 1)[1].split('"', 1)[0]
    state = parse_qs(urlparse(link.replace("&amp;", "&")).query)["state"][0]
    done = await driver.client.get(
        f"/slack/oauth_redirect?code={code}&state={state}",
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    )
    return done.status, await done.text()


async def start_oauth_app(fake: FakeSlack, database_url: str, **settings: Any) -> SlackDriver:
    return await SlackDriver.start(
        fake,
        database_url,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret="oauth-client-secret",
        **settings,
    )


@dataclass
class Workspaces:
    a: SlackDriver
    b: SlackDriver


@pytest.fixture
async def workspaces(fake_slack: FakeSlack, database_url: str) -> AsyncIterator[Workspaces]:
    a = await start_oauth_app(fake_slack, database_url)
    assert (await install(a, TEAM_A, "Agency A"))[0] == 200
    assert (await install(a, TEAM_B, "Agency B"))[0] == 200
    yield Workspaces(a, a.elsewhere(TEAM_B, CHANNEL_B))
    await a.close()


async def ask(driver: SlackDriver, command: str, text: str, user: str) -> str:
    """Run a slash command and return the reply it got through its response_url."""
    name = f"reply{next(_names)}"
    response = await driver.command(
        command, text, user, response_url=driver.fake.response_url(name)
    )
    assert response.status == 200, await response.text()

    async def answered() -> bool:
        return bool(driver.fake.responses_to(name))

    await eventually(answered)
    return "\n".join(str(call.args.get("text")) for call in driver.fake.responses_to(name))


async def draft_in_a(ws: Workspaces, text: str = "Flood warning for Pier 3 tonight.") -> str:
    """Draft 1, written in workspace A; its card's message ts."""
    assert "Draft 1 created" in await ask(ws.a, "/post", text, AUTHOR)
    return await ws.a.card_ts(1)


async def untouched(driver: SlackDriver, text: str) -> None:
    draft = await driver.service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING
    assert draft.approvals == ()
    assert draft.revision == 1
    assert draft.text == text


async def test_b_sees_none_of_as_queue_audit_roles_or_subscriptions(workspaces) -> None:
    ws: Workspaces = workspaces
    await draft_in_a(ws)
    assert "is now approver" in await ask(
        ws.a, "/social", f"roles grant {A_GRANTEE} approver", ADMIN
    )
    assert "Subscribed (id 1)" in await ask(ws.a, "/alerts", "subscribe sandbags", AUTHOR)

    # A sees its own things...
    assert "Flood warning" in await ask(ws.a, "/social", "queue", AUTHOR)
    assert "created draft 1" in await ask(ws.a, "/social", "audit", AUTHOR)
    assert A_GRANTEE in await ask(ws.a, "/social", "roles", AUTHOR)
    # ...and B, even an admin valid in every workspace, sees none of them.
    queue = await ask(ws.b, "/social", "queue", ADMIN)
    assert "The queue is empty" in queue and "Flood" not in queue
    audit = await ask(ws.b, "/social", "audit", ADMIN)
    assert "No recorded decisions yet." in audit
    roles = await ask(ws.b, "/social", "roles", ADMIN)
    assert A_GRANTEE not in roles and ADMIN in roles
    listed = await ask(ws.b, "/alerts", "list", ADMIN)
    assert "no subscriptions" in listed and "sandbags" not in listed

    ws.a.fake.member_channels = [CHANNEL_A, CHANNEL_B]
    home_event = {"type": "app_home_opened", "user": APPROVER, "tab": "home", "channel": "D1"}
    await ws.b.event(home_event)
    [home_b] = await ws.a.fake.wait_for("views.publish")
    shown = block_text(home_b.args["view"]["blocks"])
    assert "Flood warning" not in shown and "sandbags" not in shown
    await ws.a.event(home_event)
    home_a = (await ws.a.fake.wait_for("views.publish", 2))[1]
    shown = block_text(home_a.args["view"]["blocks"])
    assert "Flood warning" in shown and "sandbags" in shown


async def test_bs_approver_cannot_decide_as_draft_on_any_path(workspaces) -> None:
    ws: Workspaces = workspaces
    text = "Boil water notice lifted for Ward 2."
    ts = await draft_in_a(ws, text)
    assert "is now approver" in await ask(
        ws.b, "/social", f"roles grant {B_APPROVER} approver", ADMIN
    )

    for user in (B_APPROVER, APPROVER, ADMIN):  # B's own approver, and configured ones
        assert NO_DRAFT in await ask(ws.b, "/social", "approve 1", user)
    assert NO_DRAFT in await ask(ws.b, "/social", "reject 1 No", B_APPROVER)
    assert NO_DRAFT in await ask(ws.b, "/social", "edit 1 Rewritten by B", B_APPROVER)
    assert NO_DRAFT in await ask(ws.b, "/social", "cancel 1", B_APPROVER)
    assert NO_DRAFT in await ask(ws.b, "/social", "override 1 unapproved_link Fine", ADMIN)
    assert NO_DRAFT in await ask(
        ws.b, "/social", "variant 1 sandbox:@PortAlderCity Rewritten by B", B_APPROVER
    )
    assert NO_DRAFT in await ask(ws.b, "/social", "retry 1 sandbox:@PortAlderCity", B_APPROVER)

    for action in ("draft_approve", "draft_cancel", "draft_retry", "draft_reject", "draft_edit"):
        before = len(ws.b.responses())
        await ws.b.click(action, "1", B_APPROVER, ts)

        async def refused(before: int = before) -> bool:
            return len(ws.b.responses()) > before

        await eventually(refused)
        assert ws.b.responses()[-1]["text"].startswith(NO_DRAFT), action
    assert ws.a.fake.calls_to("views.open") == []

    for callback in ("draft_reject_modal", "draft_edit_modal"):
        submitted = await ws.b.submit(callback, {"draft_id": 1}, "From B", B_APPROVER)
        assert submitted.status == 200
        assert NO_DRAFT in json.dumps(await submitted.json()), callback

    # A reaction in B, also in a channel shared with A (Slack Connect keeps the channel id).
    await ws.b.react(ts, B_APPROVER)
    await ws.a.elsewhere(TEAM_B, CHANNEL_A).react(ts, B_APPROVER)
    await ws.a.elsewhere(TEAM_B, CHANNEL_A).react(ts, APPROVER)

    await untouched(ws.a, text)
    async with ws.a.service.db.transaction() as session:
        events = await AuditLog(session).events()
    assert [e.action for e in events if e.draft_id == 1] == ["created"]

    # B's grant does not make its holder an approver in A; A's own approver still can.
    assert "needs the approver role" in await ask(ws.a, "/social", "approve 1", B_APPROVER)
    assert "approved by" in await ask(ws.a, "/social", "approve 1", APPROVER)


async def test_b_cannot_unsubscribe_as_subscription_by_id(workspaces) -> None:
    ws: Workspaces = workspaces
    assert "Subscribed (id 1)" in await ask(ws.a, "/alerts", "subscribe sandbags", AUTHOR)
    refused = await ask(ws.b, "/alerts", "unsubscribe 1", ADMIN)
    assert "no subscription 1" in refused
    shared = await ask(ws.a.elsewhere(TEAM_B, CHANNEL_A), "/alerts", "unsubscribe 1", ADMIN)
    assert "no subscription 1" in shared
    assert "1: sandbags" in await ask(ws.a, "/alerts", "list", AUTHOR)


async def test_the_export_is_agency_wide_and_filters_by_workspace(workspaces, database_url) -> None:
    ws: Workspaces = workspaces
    await draft_in_a(ws)
    assert "Subscribed (id 1)" in await ask(ws.b, "/alerts", "subscribe sandbags", AUTHOR)
    chatops = str(Path(sys.executable).with_name("chatops"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHATOPS_"))}
    env["DATABASE_URL"] = database_url

    async def export(*extra: str) -> list[dict[str, Any]]:
        done = await asyncio.to_thread(
            subprocess.run,
            [chatops, "audit", "export", "--format", "jsonl", *extra],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return [json.loads(line) for line in done.stdout.splitlines()]

    everything = await export()
    assert [(e["action"], e["workspace"]) for e in everything] == [
        ("created", TEAM_A),
        ("subscribed", TEAM_B),
    ]
    assert [e["action"] for e in await export("--workspace", TEAM_B)] == ["subscribed"]
    assert await export("--workspace", "T9999") == []


async def test_a_workspace_not_on_the_allow_list_cannot_install(fake_slack, database_url) -> None:
    app = await start_oauth_app(fake_slack, database_url, workspaces=(TEAM_A,))
    try:
        assert (await install(app, TEAM_A, "Agency A"))[0] == 200
        status, page = await install(app, TEAM_B, "Agency B")
        assert status == 403
        assert "not allowed to install" in page and TEAM_B in page
        store = app.service.slack.installations  # type: ignore[union-attr]
        assert await store.async_find_bot(enterprise_id=None, team_id=TEAM_B) is None
        assert await store.async_find_bot(enterprise_id=None, team_id=TEAM_A) is not None
        [uninstall] = fake_slack.calls_to("apps.uninstall")
        assert uninstall.token is not None and TEAM_B in uninstall.token
    finally:
        await app.close()


async def test_commands_and_events_from_a_workspace_off_the_list_are_refused(
    fake_slack, database_url
) -> None:
    """B installed while any workspace could; then the admin limits the bot to A."""
    first = await start_oauth_app(fake_slack, database_url)
    assert (await install(first, TEAM_A, "Agency A"))[0] == 200
    assert (await install(first, TEAM_B, "Agency B"))[0] == 200
    await first.close()

    a = await start_oauth_app(fake_slack, database_url, workspaces=(TEAM_A,))
    b = a.elsewhere(TEAM_B, CHANNEL_B)
    try:
        refused = await b.command("/post", "From a workspace that may not", STRANGER)
        assert refused.status == 200
        answer = await refused.json()
        assert answer["response_type"] == "ephemeral"
        assert "not allowed to use" in answer["text"]
        clicked = await b.click("draft_approve", "1", APPROVER, "1.0")
        assert 400 <= clicked.status < 500
        submitted = await b.submit("draft_reject_modal", {"draft_id": 1}, "No", APPROVER)
        assert 400 <= submitted.status < 500
        reacted = await b.react("1.0", APPROVER)
        assert reacted.status == 200  # events are ignored, so Slack does not retry them
        assert "Draft 1 created" in await ask(a, "/post", "A may.", AUTHOR)
        async with a.service.db.transaction() as session:
            draft = await DraftStore(session).get(1)
        assert draft.workspace == TEAM_A and draft.text == "A may."
    finally:
        await a.close()


# -- Teams: two tenants ---------------------------------------------------------------------

TENANT_A, TENANT_B = "tenant-1", "tenant-2"
CONVERSATION_A, CONVERSATION_B = "19:channel1@thread.tacv2", "19:channelB@thread.tacv2"
ALICE = "00000000-0000-0000-0000-00000000a11c"  # drafts in A
BOB = "00000000-0000-0000-0000-000000000b0b"  # a configured approver, valid in every tenant


class Tenants:
    def __init__(self, fake: FakeConnector, client: TestClient[Any, Any]) -> None:
        self.fake = fake
        self.client = client

    def where(self, tenant: str) -> dict[str, Any]:
        conversation = CONVERSATION_A if tenant == TENANT_A else CONVERSATION_B
        return {
            "service_url": self.fake.service_url,
            "tenant_id": tenant,
            "conversation_id": conversation,
            "team_id": f"19:team-{tenant}@thread.tacv2",
        }

    def who(self, aad: str) -> dict[str, Any]:
        return {"user_id": f"29:{aad[-4:]}", "aad_object_id": aad, "user_name": aad[-4:]}

    async def say(self, tenant: str, text: str, by: str) -> str:
        before = len(self.fake.sent())
        activity = message_activity(text, **self.where(tenant), **self.who(by))
        response = await self.client.post("/api/messages", json=activity)
        assert response.status < 500
        return "\n".join(str(body.get("text") or "") for body in self.fake.sent()[before:])

    async def click(self, tenant: str, verb: str, data: dict[str, Any], card: str, by: str) -> Any:
        activity = invoke_action_activity(
            verb, data, reply_to_id=card, **self.where(tenant), **self.who(by)
        )
        response = await self.client.post("/api/messages", json=activity)
        assert response.status < 500
        return await response.json()


@pytest.fixture
async def start_tenants(database_url: str) -> AsyncIterator[Any]:
    """A Teams bot serving any tenant, or only those listed in `workspaces`."""
    started: list[tuple[TestClient[Any, Any], Any]] = []
    async with FakeConnector() as fake:

        async def start(workspaces: tuple[str, ...] = ()) -> tuple[Tenants, Any]:
            settings = make_settings(
                database_url,
                teams_enabled=True,
                teams_allow_anonymous=True,
                approvers=(BOB,),
                workspaces=workspaces,
            )
            service = build_service(settings)
            client = TestClient(TestServer(build_web_app(service)))
            await client.start_server()
            started.append((client, service))
            return Tenants(fake, client), service

        yield start
        for client, service in started:
            await client.close()
            await service.close()


async def test_teams_tenants_see_and_decide_only_their_own_drafts(start_tenants) -> None:
    teams, service = await start_tenants()
    assert "Draft 1 created" in await teams.say(TENANT_A, "post Shelter open at Ward 3.", ALICE)
    async with service.db.transaction() as session:
        [card] = await DraftStore(session).cards(1)
    assert "The queue is empty" in await teams.say(TENANT_B, "social queue", BOB)
    assert "No recorded decisions yet." in await teams.say(TENANT_B, "social audit", BOB)
    assert NO_DRAFT in await teams.say(TENANT_B, "social approve 1", BOB)
    for verb in ("draft_approve", "draft_reject", "draft_edit", "draft_cancel", "refresh"):
        answer = await teams.click(TENANT_B, verb, {"id": "1", "text": "B"}, card.message_id, BOB)
        assert str(answer["value"]).startswith(NO_DRAFT), verb
    reaction = reaction_activity(
        ["like"], added=True, reply_to_id=card.message_id, **teams.where(TENANT_B), **teams.who(BOB)
    )
    assert (await teams.client.post("/api/messages", json=reaction)).status < 500
    draft = await service.core.workflow.get(1)
    assert draft.state is DraftState.PENDING and draft.approvals == ()
    assert draft.text == "Shelter open at Ward 3."
    assert "#1 [pending" in await teams.say(TENANT_A, "social queue", ALICE)


async def test_a_teams_tenant_off_the_allow_list_is_refused(start_tenants) -> None:
    teams, service = await start_tenants((TENANT_A,))
    answer = await teams.say(TENANT_B, "post From a tenant that may not.", BOB)
    assert "not allowed to use" in answer
    activity = invoke_action_activity(
        "draft_approve", {"id": "1"}, reply_to_id="act1", **teams.where(TENANT_B), **teams.who(BOB)
    )
    clicked = await teams.client.post("/api/messages", json=activity)
    assert clicked.status == 403
    assert "not allowed to use" in (await clicked.json())["value"]["message"]
    reaction = reaction_activity(
        ["like"], added=True, reply_to_id="act1", **teams.where(TENANT_B), **teams.who(BOB)
    )
    assert (await teams.client.post("/api/messages", json=reaction)).status < 500
    async with service.db.transaction() as session:
        assert await DraftStore(session).row(1) is None
        stored = ConversationStore(session)
        assert await stored.reference("teams", CONVERSATION_B) is None
    assert "Draft 1 created" in await teams.say(TENANT_A, "post From A.", ALICE)
    async with service.db.transaction() as session:
        assert (await DraftStore(session).get(1)).workspace == TENANT_A


# -- the migration: what existing rows become ------------------------------------------------


@pytest.fixture
def empty_database(backend: str, tmp_path: Any) -> Iterator[str]:
    """A database with no tables at all, on the parametrized backend."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with scratch_postgres("chatops_migration") as url:
        yield url


async def _migrate_to(db: Database, revision: str) -> None:
    def upgrade(connection: sa.Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as connection:
        await connection.run_sync(upgrade)


def _old_rows(connection: sa.Connection, *, teams: tuple[str, ...]) -> None:
    """Rows as a 0007 database holds them: no workspace on grants or audit events."""
    tables = sa.MetaData()
    tables.reflect(connection)
    at = START.replace(tzinfo=None) if connection.dialect.name == "sqlite" else START

    def insert(name: str, **values: Any) -> None:
        connection.execute(tables.tables[name].insert().values(**values))

    insert("accounts", id=1, network="sandbox", handle="PortAlderCity", created_at=at)
    insert(
        "drafts",
        id=1,
        kind="post",
        state="pending",
        account_id=1,
        text="Old draft",
        author=AUTHOR,
        author_platform="slack",
        origin_workspace=teams[0],
        origin_channel=CHANNEL_A,
        revision=1,
        required_approvals=1,
        findings=[],
        created_at=at,
        updated_at=at,
    )
    insert(
        "cards",
        draft_id=1,
        platform="slack",
        workspace_id=teams[0],
        channel_id=CHANNEL_A,
        message_id="1.0",
        created_at=at,
    )
    for number, team in enumerate(teams, start=1):
        insert(
            "subscriptions",
            platform="slack",
            workspace_id=team,
            channel_id=f"C{number}",
            rule="flood",
            keywords=["flood"],
            created_by=AUTHOR,
            active=True,
            created_at=at,
        )
    insert(
        "roles",
        platform="slack",
        user_id=A_GRANTEE,
        role="approver",
        granted_by=ADMIN,
        granted_at=at,
    )
    events = [
        ("slack", AUTHOR, "created", 1),
        ("system", "chatops", "publishing", 1),
        ("slack", ADMIN, "role_granted", None),
        ("console", "alice", "watch_added", None),
    ]
    for platform, actor, action, draft_id in events:
        insert(
            "audit_events",
            at=at,
            actor=actor,
            platform=platform,
            channel="",
            action=action,
            draft_id=draft_id,
            details={},
        )


@pytest.mark.parametrize("teams", [(TEAM_A,), (TEAM_A, TEAM_B)], ids=["one", "two"])
async def test_upgrading_gives_old_rows_their_workspace(empty_database, teams) -> None:
    db = Database(empty_database)
    try:
        await _migrate_to(db, "0007")
        async with db.engine.begin() as connection:
            await connection.run_sync(lambda sync: _old_rows(sync, teams=teams))
        await db.upgrade()
        async with db.transaction() as session:
            events = {e.action: e.workspace for e in await AuditLog(session).events()}
            grants = await RoleStore(session).all("slack", TEAM_A)
        single = len(teams) == 1
        # A draft's events take the draft's workspace; the rest that of the platform's only
        # workspace, when there is just one; the console's stay "".
        assert events["created"] == events["publishing"] == TEAM_A
        assert events["role_granted"] == (TEAM_A if single else "")
        assert events["watch_added"] == ""
        assert grants == ([(A_GRANTEE, Role.APPROVER)] if single else [])
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(sa.text("UPDATE audit_events SET actor = 'someone'"))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(sa.text("DELETE FROM audit_events"))
    finally:
        await db.dispose()
