"""Bolt listeners: each translates a Slack request and hands it to the same core and
commands the console uses. No business rule lives here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.chat.slack import blocks
from adapters.chat.slack.chat import PLATFORM, SlackChat
from adapters.chat.slack.payloads import (
    actor_of,
    command_channel,
    modal_value,
    reacted_message,
    reaction_name,
    team_of,
)
from adapters.chat.slack.text import to_plain
from chatops.access.authz import workspace_refused
from chatops.chat.cards import draft_card
from chatops.chat.interaction import Invocation
from chatops.core import Core
from chatops.domain.errors import ChatOpsError, InvalidInput, OutdatedCard
from chatops.domain.types import Actor, ChannelRef, Draft, Via
from chatops.drafts.workflow import NewDraft
from chatops.listening.alerts import pause_channel
from chatops.storage.events import EventLog
from commands import CommandContext, CommandRegistry
from commands.drafting import show_reply_draft
from commands.parsing import draft_button, edit_revision, subject_id
from commands.social import approve_by_reaction

log = structlog.get_logger(__name__)

SLASH_COMMANDS = ("/post", "/reply", "/alerts", "/social")
LOST_CHANNEL_EVENTS = ("channel_left", "group_left", "channel_archive", "group_archive")
EVENTS = ("app_home_opened", "reaction_added", "reaction_removed", *LOST_CHANNEL_EVENTS)
RECEIPT_PREVIEW = 60
WORK_SLOTS = 2

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class SlackHandlers:
    """`http_session` gives the shared session for response_url replies (or None before
    start-up); `work_slots` bounds how many commands run their work at once, so a burst
    of commands cannot crowd the event loop and delay the next acknowledgements."""

    core: Core
    registry: CommandRegistry
    chat: SlackChat
    http_session: Callable[[], aiohttp.ClientSession | None]
    work_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(WORK_SLOTS))

    @property
    def context(self) -> CommandContext:
        return CommandContext(core=self.core, chat=self.chat)

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.allowed_workspace)
        app.middleware(self.once_per_event)
        for command in SLASH_COMMANDS:
            app.command(command)(self.on_command)
        app.action("draft_approve")(self.on_draft_button)
        app.action("draft_cancel")(self.on_draft_button)
        app.action("draft_retry")(self.on_draft_button)
        app.action("draft_reject")(self.on_open_reject)
        app.action("draft_edit")(self.on_open_edit)
        app.action("alert_reply")(self.on_open_reply)
        app.action("alert_assign")(self.on_alert_button)
        app.action("alert_handled")(self.on_alert_button)
        app.view(blocks.REJECT_CALLBACK)(self.on_reject_submitted)
        app.view(blocks.EDIT_CALLBACK)(self.on_edit_submitted)
        app.view(blocks.REPLY_CALLBACK)(self.on_reply_submitted)
        app.event("reaction_added")(self.on_reaction_added)
        app.event("reaction_removed")(self.on_reaction_removed)
        app.event("app_home_opened")(self.on_home_opened)
        for lost in LOST_CHANNEL_EVENTS:
            app.event(lost)(self.on_channel_lost)

    async def allowed_workspace(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """A workspace off CHATOPS_WORKSPACES: a command gets a friendly answer, an event is
        ignored (answered, so Slack does not redeliver it), anything else gets a 403."""
        team = team_of(body)
        if self.core.role_policy.allows_workspace(team):
            await next()
            return None
        log.warning("slack_workspace_refused", team=team)
        if body.get("command"):
            answer = {"response_type": "ephemeral", "text": workspace_refused(team)}
            return BoltResponse(status=200, body=answer)
        if body.get("type") == "event_callback":
            return BoltResponse(status=200, body="")
        return BoltResponse(status=403, body={"error": workspace_refused(team)})

    async def once_per_event(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Slack redelivers events it thinks were missed (X-Slack-Retry-Num); handle each once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            async with self.core.db.transaction() as session:
                first = await EventLog(session).first_time(
                    PLATFORM, str(event_id), now=self.core.clock.now()
                )
            if not first:
                log.info("slack_event_duplicate", event_id=event_id)
                return BoltResponse(status=200, body="")
        await next()
        return None

    async def on_command(self, ack: Ack, body: dict[str, Any]) -> None:
        """Ack at once with a receipt; the command runs after Slack has its answer."""
        command = str(body.get("command", "")).lstrip("/")
        text = to_plain(str(body.get("text", "")))
        shown = text if len(text) <= RECEIPT_PREVIEW else text[: RECEIPT_PREVIEW - 1] + "…"
        receipt = blocks.message_text(f"`/{command} {shown}`")
        await ack(response_type="ephemeral", text=f":hourglass_flowing_sand: {receipt}")
        invocation = Invocation(actor_of(body), command_channel(body), command, text)
        async with self.work_slots:
            replies = await self.registry.dispatch(self.context, invocation)
            webhook = AsyncWebhookClient(str(body["response_url"]), session=self.http_session())
            for reply in replies:
                card = blocks.notice_and_card(reply.render(), reply.card) if reply.card else None
                await webhook.send(
                    text=blocks.message_text(reply.render()),
                    blocks=card,
                    response_type="ephemeral" if reply.ephemeral else "in_channel",
                )

    async def on_draft_button(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        await ack()
        workflow = self.core.workflow
        try:
            actor, (draft_id, seen) = known_actor(body), draft_button(action.get("value"))
            if action["action_id"] == "draft_approve":
                outcome = await workflow.approve(actor, draft_id, Via.BUTTON, seen_revision=seen)
            elif action["action_id"] == "draft_cancel":
                outcome = await workflow.cancel(actor, draft_id)
            else:
                outcome = await workflow.retry(actor, draft_id)
        except OutdatedCard as outdated:
            await self._show_current(respond, outdated)
            return
        except ChatOpsError as error:
            await _privately(respond, str(error))
            return
        if not outcome.changed:
            await _privately(respond, outcome.message)

    async def _show_current(self, respond: Respond, outdated: OutdatedCard) -> None:
        """Why nothing was approved, with the current card, for the clicker's eyes only."""
        card = draft_card(outdated.draft, zone=self.core.zone, labels=self.core.label)
        await respond(
            text=str(outdated),
            blocks=blocks.notice_and_card(str(outdated), card),
            response_type="ephemeral",
            replace_original=False,
        )

    async def _draft_for(
        self, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> Draft | None:
        """The draft a button names, or None after telling the clicker why not."""
        try:
            draft_id = draft_button(action.get("value"))[0]
            return await self.core.workflow.get(draft_id, known_actor(body))
        except ChatOpsError as error:
            await _privately(respond, str(error))
            return None

    async def on_open_reject(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: Respond,
    ) -> None:
        await ack()
        draft = await self._draft_for(body, action, respond)
        if draft is None:
            return
        view = blocks.text_modal(
            callback_id=blocks.REJECT_CALLBACK,
            title="Reject draft",
            label=f"Why is draft {draft.id} rejected?",
            submit="Reject",
            metadata=json.dumps({"draft_id": draft.id}),
            placeholder="The author sees this reason in the card's thread.",
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_open_edit(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: Respond,
    ) -> None:
        await ack()
        draft = await self._draft_for(body, action, respond)
        if draft is None:
            return
        view = blocks.text_modal(
            callback_id=blocks.EDIT_CALLBACK,
            title=f"Edit draft {draft.id}",
            label="Text (saving clears approvals)",
            submit="Save",
            metadata=json.dumps({"draft_id": draft.id, "revision": draft.revision}),
            initial=draft.text,
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_open_reply(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: Respond,
    ) -> None:
        await ack()
        try:
            alert = await self.core.alerts.get(subject_id(action.get("value")), known_actor(body))
        except ChatOpsError as error:
            await _privately(respond, str(error))
            return
        author = alert.mention.mention.author.handle
        view = blocks.text_modal(
            callback_id=blocks.REPLY_CALLBACK,
            title="Reply to mention",
            label=f"Reply to @{author} (a draft; it needs approval)",
            submit="Create draft",
            metadata=json.dumps({"alert_id": alert.id}),
            placeholder=alert.mention.mention.text[:140],
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_alert_button(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        await ack()
        try:
            actor, alert_id = known_actor(body), subject_id(action.get("value"))
            if action["action_id"] == "alert_assign":
                await self.core.alerts.assign(actor, alert_id)
            else:
                await self.core.alerts.mark_handled(actor, alert_id)
        except ChatOpsError as error:
            await _privately(respond, str(error))

    async def on_reject_submitted(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        async def decide() -> object:
            draft_id = metadata_id(view, "draft_id")
            reason = modal_value(view, blocks.INPUT_BLOCK, blocks.INPUT_ACTION)
            return await self.core.workflow.reject(known_actor(body), draft_id, reason)

        await self._submit(ack, decide())

    async def on_edit_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        async def decide() -> object:
            draft_id = metadata_id(view, "draft_id")
            seen = edit_revision(_metadata(view).get("revision"))
            text = to_plain(modal_value(view, blocks.INPUT_BLOCK, blocks.INPUT_ACTION))
            return await self.core.workflow.edit(
                known_actor(body), draft_id, text, seen_revision=seen
            )

        await self._submit(ack, decide())

    async def on_reply_submitted(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        text = to_plain(modal_value(view, blocks.INPUT_BLOCK, blocks.INPUT_ACTION))
        try:
            alert = await self.core.alerts.get(metadata_id(view, "alert_id"), known_actor(body))
            draft = await self.core.workflow.create(
                known_actor(body), alert.channel, NewDraft(text=text, reply_to=alert.mention)
            )
        except ChatOpsError as error:
            await ack(response_action="errors", errors={blocks.INPUT_BLOCK: str(error)[:150]})
            return
        await ack()
        trouble = await show_reply_draft(self.context, alert.channel, draft)
        if trouble is not None:
            await self.chat.post_ephemeral(
                alert.channel, known_actor(body).user_id, trouble.render(), card=trouble.card
            )

    async def _submit(self, ack: Ack, decision: Awaitable[object]) -> None:
        """Run a modal's decision; a refusal is shown in the modal, next to the input."""
        try:
            await decision
        except ChatOpsError as error:
            await ack(response_action="errors", errors={blocks.INPUT_BLOCK: str(error)[:150]})
            return
        await ack()

    async def on_reaction_added(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        await self._reaction(body, event, added=True)

    async def on_reaction_removed(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        await self._reaction(body, event, added=False)

    async def _reaction(self, body: dict[str, Any], event: dict[str, Any], *, added: bool) -> None:
        message = reacted_message(event, team_of(body))
        if message is None:
            return
        shown = await self.core.workflow.shown_on(message)
        if shown is None:
            return
        draft_id, seen = shown
        channel = message.channel
        actor = Actor(
            PLATFORM, str(event.get("user", "")), "", channel.channel_id, channel.workspace_id
        )
        invocation = Invocation(actor, message.channel, "react", reaction_name(event))
        try:
            await approve_by_reaction(
                self.context,
                invocation,
                draft_id,
                reaction_name(event),
                added=added,
                seen_revision=seen,
                card=message,
            )
        except OutdatedCard as outdated:
            card = draft_card(outdated.draft, zone=self.core.zone, labels=self.core.label)
            await self.chat.post_ephemeral(message.channel, actor.user_id, str(outdated), card=card)
        except ChatOpsError as error:
            await self.chat.post_ephemeral(message.channel, actor.user_id, str(error))

    async def on_home_opened(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        team = team_of(body)
        actor = Actor(PLATFORM, str(event.get("user", "")), workspace=team)
        member_of = await _bot_channels(client)
        subscriptions = [
            s
            for s in await self.core.subscriptions.of_workspace(PLATFORM, team)
            if s.channel.channel_id in member_of
        ]
        view = blocks.home_view(
            awaiting=await self.core.workflow.awaiting(actor),
            queue=await self.core.workflow.queue(actor),
            subscriptions=subscriptions,
        )
        await client.views_publish(user_id=actor.user_id, view=view)

    async def on_channel_lost(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        channel = ChannelRef(PLATFORM, str(event.get("channel", "")), team_of(body))
        reason = "it was archived" if event.get("type", "").endswith("archive") else "I was removed"
        log.warning("slack_channel_lost", channel=channel.channel_id, reason=reason)
        core = self.core
        await pause_channel(core.db, core.clock, core.notifier, channel, reason)


def metadata_id(view: dict[str, Any], key: str) -> int:
    return subject_id(_metadata(view).get(key))


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the bot put in a modal's private_metadata; anything else reads as empty."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def known_actor(body: dict[str, Any]) -> Actor:
    actor = actor_of(body)
    if not actor.user_id:
        raise InvalidInput("I could not tell who did this, so I did nothing.")
    return actor


async def _privately(respond: Respond, text: str) -> None:
    await respond(text=blocks.message_text(text), response_type="ephemeral", replace_original=False)


async def _bot_channels(client: AsyncWebClient) -> set[str]:
    """Channels the bot is a member of (App Home lists only their subscriptions)."""
    channels: set[str] = set()
    cursor = None
    try:
        while True:
            page = await client.users_conversations(
                types="public_channel,private_channel", limit=200, cursor=cursor
            )
            listed: list[dict[str, Any]] = page.get("channels", [])
            channels.update(str(channel["id"]) for channel in listed)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return channels
    except SlackApiError as error:
        log.warning("slack_channels_unknown", error=error.response.get("error"))
        return channels
