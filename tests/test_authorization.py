"""The two-person rule on every path: a property over actors, roles, actions and paths.

Drafts are written on one platform, perhaps changed by someone on any platform (console
edit or image description, Slack edit modal, Teams edit card), and decided on another
(console command or reaction, Slack button, reaction or modal, Teams card or reaction), by
people with and without the approver or admin role. Whatever the path, no non-approver
approves or rejects, no author approves their own draft (whoever changed it is one of its
authors), and only admins change roles.
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
from sqlalchemy import func, select

from adapters.console.chat import ConsoleChat
from adapters.console.session import ConsoleSession
from adapters.web.app import build_web_app
from chatops.domain.types import Actor, ChannelRef, DraftState, MessageRef, Role
from chatops.service import Service, build_service
from chatops.storage.drafts import DraftStore
from chatops.storage.tables import DraftRow
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import (
    FakeConnector,
    invoke_action_activity,
    message_activity,
    reaction_activity,
)
from tests.harness import make_settings
from tests.slack_harness import SIGNING_SECRET, SlackDriver

APPROVERS = ("UAPPROVER", "UAPPROVER2")
ADMINS = ("UADMIN",)
PEOPLE = ("UAPPROVER", "UAPPROVER2", "UADMIN", "USTAFF", "UOTHER")
PATHS = (
    "console command",
    "console reaction",
    "slack button",
    "slack reaction",
    "slack modal",
    "teams card",
    "teams reaction",
)
EDIT_PATHS = ("console edit", "console alt", "slack edit modal", "teams edit card")
TEAMS_CHANNEL = "19:channel1@thread.tacv2"


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
                approvers=APPROVERS,
                admins=ADMINS,
            )
        )
        client = TestClient(TestServer(build_web_app(service)))
        await client.start_server()
        # The bot has heard from the Teams channel, so it can update the cards it shows there.
        hello = message_activity("social help", service_url=connector.service_url)
        assert (await client.post("/api/messages", json=hello)).status in (200, 202)
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
        yield Rig(service, slack, client, connector, console)
        await client.close()
        await service.close()


async def new_draft(rig: Rig, author: str) -> int:
    """A draft by `author` on the console, with a card on each platform's channel."""
    rig.console.user = author
    await rig.console.handle(
        f"/post --image https://example.gov/map.png --alt Map Property check {time.monotonic_ns()}"
    )
    async with rig.service.db.transaction() as session:
        draft_id = int(await session.scalar(select(func.max(DraftRow.id))) or 0)
        store = DraftStore(session)
        now = rig.service.clock.now()
        await store.add_card(
            draft_id,
            MessageRef(ChannelRef("slack", "C0001", "T0001"), f"ts.{draft_id}"),
            revision=1,
            now=now,
        )
        await store.add_card(
            draft_id,
            MessageRef(ChannelRef("teams", TEAMS_CHANNEL, "tenant-1"), f"act{draft_id}"),
            revision=1,
            now=now,
        )
    return draft_id


async def change(rig: Rig, path: str, editor: str, draft_id: int) -> None:
    """`editor` changes the draft's content along `path`."""
    text = f"Property check, changed {time.monotonic_ns()}"
    if path == "console edit":
        rig.console.user = editor
        await rig.console.handle(f"/social edit {draft_id} {text}")
    elif path == "console alt":
        rig.console.user = editor
        await rig.console.handle(f"/social alt {draft_id} 1 A map, {text}")
    elif path == "slack edit modal":
        await rig.slack.submit("draft_edit_modal", {"draft_id": draft_id}, text, editor)
    else:
        activity = invoke_action_activity(
            "draft_edit",
            {"id": str(draft_id), "text": text},
            service_url=rig.connector.service_url,
            reply_to_id=f"act{draft_id}",
            user_id=f"29:{editor}",
            aad_object_id=editor,
            user_name=editor,
        )
        assert (await rig.teams_client.post("/api/messages", json=activity)).status == 200


async def decide(rig: Rig, path: str, actor: str, draft_id: int, action: str) -> None:
    """`action` is approve or reject, along `path`, as `actor`, who sees the current card."""
    revision = (await rig.service.core.workflow.get(draft_id)).revision
    if path == "console command":
        rig.console.user = actor
        verb = "approve" if action == "approve" else "reject"
        await rig.console.handle(f"/social {verb} {draft_id} checked")
    elif path == "console reaction":
        if action == "approve":
            rig.console.user = actor
            await rig.console.handle(f"/react {draft_id} white_check_mark")
    elif path == "slack button":
        if action == "approve":
            value = f"{draft_id}:{revision}"
            await rig.slack.click("draft_approve", value, actor, f"ts.{draft_id}")
    elif path == "slack reaction":
        if action == "approve":
            await rig.slack.react(f"ts.{draft_id}", actor)
    elif path == "slack modal":
        if action == "reject":
            await rig.slack.submit("draft_reject_modal", {"draft_id": draft_id}, "checked", actor)
    elif path == "teams card":
        verb = "draft_approve" if action == "approve" else "draft_reject"
        activity = invoke_action_activity(
            verb,
            {"id": str(draft_id), "reason": "checked", "revision": revision},
            service_url=rig.connector.service_url,
            reply_to_id=f"act{draft_id}",
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
            user_id=f"29:{actor}",
            aad_object_id=actor,
            user_name=actor,
        )
        await rig.teams_client.post("/api/messages", json=activity)


async def settled_state(rig: Rig, draft_id: int, expect_change: bool) -> DraftState:
    """Slack handles actions after acking; give it a moment when a change is expected."""
    for _ in range(100 if expect_change else 5):
        state = (await rig.service.core.workflow.get(draft_id)).state
        if state is not DraftState.PENDING:
            return state
        await asyncio.sleep(0.02)
    return (await rig.service.core.workflow.get(draft_id)).state


def platform_of(path: str) -> str:
    return "console" if path.startswith("console") else path.split()[0]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    author=st.sampled_from(PEOPLE),
    editor=st.one_of(st.none(), st.sampled_from(PEOPLE)),
    edit_path=st.sampled_from(EDIT_PATHS),
    actor=st.sampled_from(PEOPLE),
    path=st.sampled_from(PATHS),
    action=st.sampled_from(["approve", "reject"]),
)
async def test_no_path_lets_the_wrong_person_decide(
    rig: Rig,
    author: str,
    editor: str | None,
    edit_path: str,
    actor: str,
    path: str,
    action: str,
) -> None:
    draft_id = await new_draft(rig, author)
    authors = {("console", author)}
    if editor is not None:
        await change(rig, edit_path, editor, draft_id)
        editing_as = (platform_of(edit_path), editor)
        may_edit = editing_as in authors or editor in APPROVERS or editor in ADMINS
        draft = await rig.service.core.workflow.get(draft_id)
        assert (draft.revision == 2) == may_edit, (author, editor, edit_path)
        if may_edit:
            authors.add(editing_as)
        assert {(a.platform, a.user_id) for a in draft.authors} == authors
    await decide(rig, path, actor, draft_id, action)
    actor_platform = platform_of(path)
    is_approver = actor in APPROVERS or actor in ADMINS
    own = (actor_platform, actor) in authors
    supported = not (
        (action == "approve" and path == "slack modal")
        or (
            action == "reject"
            and path in ("console reaction", "slack button", "slack reaction", "teams reaction")
        )
    )
    may = is_approver and supported and (action == "reject" or not own)
    state = await settled_state(rig, draft_id, expect_change=may)
    draft = await rig.service.core.workflow.get(draft_id)
    if action == "approve":
        assert (
            state is DraftState.APPROVED
            or state is DraftState.PUBLISHING
            or state is DraftState.PUBLISHED
        ) == may, (author, editor, edit_path, actor, path, state)
        assert not any((a.platform, a.approver) in authors for a in draft.approvals)
        for approver in draft.approvers:
            assert approver in APPROVERS or approver in ADMINS
    else:
        assert (state is DraftState.REJECTED) == may, (author, editor, actor, path, state)


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
