"""The two-person rule on every path: a property over actors, roles, actions, paths and
workspaces.

Drafts are written in one workspace (the console's, two Slack teams, two Teams tenants)
and decided along every path (console command or reaction, Slack button, reaction or
modal, Teams card or reaction), from the same or another workspace, by people with and
without the approver or admin role (configured ones hold in every workspace, a grant in
its own). Whatever the path, no one decides a draft of another workspace, no non-approver
approves or rejects, no author approves their own draft, and only admins change roles.

A draft may also be changed first, in its own workspace (console edit or image description,
Slack edit modal, Teams edit card): whoever changed it is one of its authors, and no author
approves it, whatever the path.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.chat.console.chat import ConsoleChat
from adapters.chat.console.session import CHANNEL as CONSOLE_CHANNEL
from adapters.chat.console.session import ConsoleSession
from adapters.chat.web.app import build_web_app
from chatops.domain.types import Actor, ChannelRef, DraftState, MediaItem, MessageRef, Role
from chatops.drafts.workflow import NewDraft
from chatops.service import Service, build_service
from chatops.storage.drafts import DraftStore
from commands.cards import show_draft_card
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeConnector, invoke_action_activity, reaction_activity
from tests.harness import make_settings
from tests.slack_harness import SIGNING_SECRET, SlackDriver

APPROVERS = ("UAPPROVER", "UAPPROVER2")
ADMINS = ("UADMIN",)
GRANTED = "UGRANTED"  # approver by a grant made in Slack workspace T0001 only
PEOPLE = ("UAPPROVER", "UAPPROVER2", "UADMIN", "USTAFF", "UOTHER", GRANTED)
SLACK_CHANNELS = {"T0001": "C0001", "T0002": "C0002"}
TEAMS_CHANNELS = {"tenant-1": "19:channel1@thread.tacv2", "tenant-2": "19:channel2@thread.tacv2"}
# Where a draft can be written: (platform, workspace, channel).
HOMES = (
    ("console", "", "console"),
    *(("slack", team, channel) for team, channel in SLACK_CHANNELS.items()),
    *(("teams", tenant, channel) for tenant, channel in TEAMS_CHANNELS.items()),
)
PATHS = (
    "console command",
    "console reaction",
    "slack button",
    "slack reaction",
    "slack modal",
    "teams card",
    "teams reaction",
)
# How a draft's content can be changed, on each platform.
EDIT_PATHS = {
    "console": ("console edit", "console alt"),
    "slack": ("slack edit modal",),
    "teams": ("teams edit card",),
}


@dataclass
class Rig:
    service: Service
    slack: SlackDriver
    teams_client: TestClient[Any, Any]
    connector: FakeConnector
    console: ConsoleSession


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[Rig]:
    async with FakeSlack() as fake_slack, FakeConnector() as connector:
        service = build_service(
            make_settings(
                database_url,
                slack_bot_token=fake_slack.bot_token,
                slack_signing_secret=SIGNING_SECRET,
                slack_api_base_url=fake_slack.base_url,
                teams_enabled=True,
                teams_allow_anonymous=True,
                approvers=APPROVERS,
                admins=ADMINS,
            )
        )
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        out = io.StringIO()
        chat = ConsoleChat(out, reaction="white_check_mark")
        console = ConsoleSession(
            context=service.context(chat),
            registry=service.registry,
            chat=chat,
            user="USTAFF",
            out=out,
            drain=service.drain_jobs().run_all_once,
        )
        slack = SlackDriver(fake_slack, service, client)
        admin_in_t1 = Actor("slack", ADMINS[0], workspace="T0001")
        await service.core.roles.grant(admin_in_t1, GRANTED, Role.APPROVER)
        yield Rig(service, slack, client, connector, console)
        await client.close()
        await service.close()


async def new_draft(rig: Rig, author: str, home: tuple[str, str, str]) -> int:
    """A draft by `author`, written in `home`, with a card in every workspace's channel: a
    reaction anywhere then finds the draft, and only the core's workspace check is left to
    refuse it."""
    platform, workspace, channel = home
    draft = await rig.service.core.workflow.create(
        Actor(platform, author, author, channel, workspace),
        ChannelRef(platform, channel, workspace),
        NewDraft(
            text=f"Property check {time.monotonic_ns()}",
            media=(MediaItem("https://example.gov/map.png", "Map"),),
        ),
    )
    if platform == "console":  # the card a console `/react` reacts to
        await show_draft_card(rig.console.context, CONSOLE_CHANNEL, draft)
    async with rig.service.db.transaction() as session:
        store = DraftStore(session)
        now = rig.service.clock.now()
        for team, slack_channel in SLACK_CHANNELS.items():
            ref = MessageRef(ChannelRef("slack", slack_channel, team), f"ts.{draft.id}")
            await store.add_card(draft.id, ref, revision=1, now=now)
        for tenant, conversation in TEAMS_CHANNELS.items():
            ref = MessageRef(ChannelRef("teams", conversation, tenant), f"act{draft.id}")
            await store.add_card(draft.id, ref, revision=1, now=now)
    return draft.id


async def decide(
    rig: Rig, path: str, actor: str, workspace: str, draft_id: int, action: str
) -> None:
    """`action` is approve or reject, along `path`, as `actor` acting from `workspace`, who
    sees the current card."""
    revision = (await rig.service.core.workflow.get(draft_id)).revision
    if path == "console command":
        rig.console.user = actor
        verb = "approve" if action == "approve" else "reject"
        await rig.console.handle(f"/social {verb} {draft_id} checked")
    elif path == "console reaction":
        if action == "approve":
            rig.console.user = actor
            await rig.console.handle(f"/react {draft_id} white_check_mark")
    elif path.startswith("slack"):
        slack = rig.slack.elsewhere(workspace, SLACK_CHANNELS[workspace])
        if path == "slack button" and action == "approve":
            value = f"{draft_id}:{revision}"
            await slack.click("draft_approve", value, actor, f"ts.{draft_id}")
        elif path == "slack reaction" and action == "approve":
            await slack.react(f"ts.{draft_id}", actor)
        elif path == "slack modal" and action == "reject":
            await slack.submit("draft_reject_modal", {"draft_id": draft_id}, "checked", actor)
    elif path == "teams card":
        verb = "draft_approve" if action == "approve" else "draft_reject"
        activity = invoke_action_activity(
            verb,
            {"id": str(draft_id), "revision": revision, "reason": "checked"},
            service_url=rig.connector.service_url,
            reply_to_id=f"act{draft_id}",
            conversation_id=TEAMS_CHANNELS[workspace],
            tenant_id=workspace,
            user_id=f"29:{actor}",
            aad_object_id=actor,
            user_name=actor,
        )
        assert (await rig.teams_client.post("/api/messages", json=activity)).status == 200
    elif path == "teams reaction" and action == "approve":
        activity = reaction_activity(
            ["like"],
            added=True,
            service_url=rig.connector.service_url,
            reply_to_id=f"act{draft_id}",
            conversation_id=TEAMS_CHANNELS[workspace],
            tenant_id=workspace,
            user_id=f"29:{actor}",
            aad_object_id=actor,
            user_name=actor,
        )
        await rig.teams_client.post("/api/messages", json=activity)


async def change(
    rig: Rig, path: str, editor: str, home: tuple[str, str, str], draft_id: int
) -> None:
    """`editor` changes the draft's content along `path`, from the draft's own workspace."""
    _, workspace, channel = home
    text = f"Property check, changed {time.monotonic_ns()}"
    if path == "console edit":
        rig.console.user = editor
        await rig.console.handle(f"/social edit {draft_id} {text}")
    elif path == "console alt":
        rig.console.user = editor
        await rig.console.handle(f"/social alt {draft_id} 1 A map, {text}")
    elif path == "slack edit modal":
        slack = rig.slack.elsewhere(workspace, channel)
        await slack.submit("draft_edit_modal", {"draft_id": draft_id}, text, editor)
    else:
        activity = invoke_action_activity(
            "draft_edit",
            {"id": str(draft_id), "revision": 1, "text": text},
            service_url=rig.connector.service_url,
            reply_to_id=f"act{draft_id}",
            conversation_id=channel,
            tenant_id=workspace,
            user_id=f"29:{editor}",
            aad_object_id=editor,
            user_name=editor,
        )
        assert (await rig.teams_client.post("/api/messages", json=activity)).status == 200


async def settled_revision(rig: Rig, draft_id: int, expect_change: bool) -> int:
    """Slack handles modal submissions after acking, too."""
    for _ in range(250 if expect_change else 5):
        revision = (await rig.service.core.workflow.get(draft_id)).revision
        if revision != 1:
            return revision
        await asyncio.sleep(0.02)
    return (await rig.service.core.workflow.get(draft_id)).revision


async def settled_state(rig: Rig, draft_id: int, expect_change: bool) -> DraftState:
    """Slack handles actions after acking; give it a moment when a change is expected."""
    for _ in range(250 if expect_change else 5):
        state = (await rig.service.core.workflow.get(draft_id)).state
        if state is not DraftState.PENDING:
            return state
        await asyncio.sleep(0.02)
    return (await rig.service.core.workflow.get(draft_id)).state


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    author=st.sampled_from(PEOPLE),
    home=st.sampled_from(HOMES),
    actor=st.sampled_from(PEOPLE),
    path=st.sampled_from(PATHS),
    elsewhere=st.booleans(),
    action=st.sampled_from(["approve", "reject"]),
)
async def test_no_path_lets_the_wrong_person_decide(
    rig: Rig,
    author: str,
    home: tuple[str, str, str],
    actor: str,
    path: str,
    elsewhere: bool,
    action: str,
) -> None:
    draft_id = await new_draft(rig, author, home)
    actor_platform = "console" if path.startswith("console") else path.split()[0]
    workspaces = {"console": [""], "slack": list(SLACK_CHANNELS), "teams": list(TEAMS_CHANNELS)}
    choices = workspaces[actor_platform]
    # From the draft's own workspace when the path's platform has it, unless `elsewhere`.
    if home[1] in choices and not elsewhere:
        workspace = home[1]
    else:
        workspace = next((w for w in choices if w != home[1]), choices[0])
    await decide(rig, path, actor, workspace, draft_id, action)

    same_workspace = (actor_platform, workspace) == home[:2]
    granted = actor == GRANTED and (actor_platform, workspace) == ("slack", "T0001")
    is_approver = actor in APPROVERS or actor in ADMINS or granted
    own = actor == author and actor_platform == home[0]
    supported = not (
        (action == "approve" and path == "slack modal")
        or (
            action == "reject"
            and path in ("console reaction", "slack button", "slack reaction", "teams reaction")
        )
    )
    may = same_workspace and is_approver and supported and (action == "reject" or not own)
    state = await settled_state(rig, draft_id, expect_change=may)
    draft = await rig.service.core.workflow.get(draft_id)
    where = (author, home, actor, path, workspace, state)
    if action == "approve":
        assert (
            state is DraftState.APPROVED
            or state is DraftState.PUBLISHING
            or state is DraftState.PUBLISHED
        ) == may, where
        assert author not in draft.approvers or actor_platform != home[0] or author != actor
        for approver in draft.approvers:
            assert approver in APPROVERS or approver in ADMINS or approver == GRANTED
    else:
        assert (state is DraftState.REJECTED) == may, where
    if not same_workspace:
        assert draft.approvals == () and draft.revision == 1, where


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    author=st.sampled_from(PEOPLE),
    home=st.sampled_from(HOMES),
    editor=st.sampled_from(PEOPLE),
    edit_choice=st.integers(min_value=0, max_value=1),
    actor=st.sampled_from(PEOPLE),
    path_choice=st.integers(min_value=0, max_value=2),
)
async def test_whoever_changed_a_draft_never_approves_it(
    rig: Rig,
    author: str,
    home: tuple[str, str, str],
    editor: str,
    edit_choice: int,
    actor: str,
    path_choice: int,
) -> None:
    platform, workspace, _ = home
    draft_id = await new_draft(rig, author, home)
    edit_paths = EDIT_PATHS[platform]
    edit_path = edit_paths[edit_choice % len(edit_paths)]
    granted = editor == GRANTED and (platform, workspace) == ("slack", "T0001")
    may_edit = editor == author or editor in APPROVERS or editor in ADMINS or granted
    await change(rig, edit_path, editor, home, draft_id)
    revision = await settled_revision(rig, draft_id, expect_change=may_edit)
    draft = await rig.service.core.workflow.get(draft_id)
    assert (revision == 2) == may_edit, (author, home, editor, edit_path)
    authors = {(platform, author)} | ({(platform, editor)} if may_edit else set())
    assert {(a.platform, a.user_id) for a in draft.authors} == authors

    approve_paths = [p for p in PATHS if p.startswith(platform) and p != "slack modal"]
    path = approve_paths[path_choice % len(approve_paths)]
    await decide(rig, path, actor, workspace, draft_id, "approve")
    granted = actor == GRANTED and (platform, workspace) == ("slack", "T0001")
    is_approver = actor in APPROVERS or actor in ADMINS or granted
    may = is_approver and (platform, actor) not in authors
    state = await settled_state(rig, draft_id, expect_change=may)
    where = (author, home, editor, edit_path, actor, path, state)
    assert (state is not DraftState.PENDING) == may, where
    draft = await rig.service.core.workflow.get(draft_id)
    assert not any((a.platform, a.approver) in authors for a in draft.approvals), where


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    actor=st.sampled_from(PEOPLE), target=st.sampled_from(PEOPLE), role=st.sampled_from(list(Role))
)
async def test_only_admins_change_roles(rig: Rig, actor: str, target: str, role: Role) -> None:
    before = await rig.service.core.roles.roles_of(Actor("console", target))
    rig.console.user = actor
    await rig.console.handle(f"/social roles grant {target} {role.value}")
    after = await rig.service.core.roles.roles_of(Actor("console", target))
    if actor not in ADMINS:
        assert after == before, (actor, target, role)
    else:
        assert role in after
    await rig.console.handle(f"/social roles revoke {target} {role.value}")
    if actor not in ADMINS:
        assert await rig.service.core.roles.roles_of(Actor("console", target)) == before
