"""Teams turns translated to the same core and commands the console and Slack use."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import structlog
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    ChannelAccount,
    InvokeResponse,
)
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState
from microsoft_agents.hosting.core.app.adaptive_card import factory

from adapters.chat.teams.cards import (
    CONTENT_TYPE,
    FALLBACK_VERB,
    REASON_INPUT,
    TEXT_INPUT,
    adaptive_card,
    with_notice,
)
from adapters.chat.teams.chat import PLATFORM, TeamsChat, content_activity
from adapters.chat.teams.plain import plain_message
from chatops.access.authz import workspace_refused
from chatops.chat.cards import Card, alert_card, draft_card
from chatops.chat.interaction import Invocation, clean_text
from chatops.core import Core
from chatops.domain.errors import ChatOpsError, OutdatedCard
from chatops.domain.types import Actor, Alert, ChannelRef, MessageRef, Via
from chatops.drafts.workflow import NewDraft
from chatops.storage.conversations import ConversationStore
from commands import CommandContext, CommandRegistry
from commands.drafting import show_reply_draft
from commands.parsing import edit_revision, revision_of, subject_id
from commands.social import approve_by_reaction

log = structlog.get_logger(__name__)

MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"
FRIENDLY_ERROR = (
    "Sorry, something went wrong on our side; nothing was published. "
    "Please try again, or tell your admin the time it happened."
)


def actor_of(account: ChannelAccount | None, conversation: str = "") -> Actor:
    """Teams users by their Entra (AAD) object id when present, else the channel's id."""
    if account is None:
        return Actor(PLATFORM, "unknown", "", conversation)
    user_id = clean_text(str(account.aad_object_id or account.id or "")) or "unknown"
    return Actor(PLATFORM, user_id, clean_text(str(account.name or "")), conversation)


def tenant_of(context: TurnContext) -> str:
    """The tenant an activity comes from: the conversation's, else channelData's."""
    activity = context.activity
    tenant = activity.conversation.tenant_id if activity.conversation else None
    if not tenant and isinstance(activity.channel_data, dict):
        data = activity.channel_data.get("tenant")
        tenant = data.get("id") if isinstance(data, dict) else None
    return clean_text(str(tenant or ""))


def channel_of(context: TurnContext) -> ChannelRef:
    return ChannelRef(PLATFORM, str(context.activity.conversation.id), tenant_of(context))


def actor_in(context: TurnContext) -> Actor:
    """Who sent this activity, acting from its tenant."""
    actor = actor_of(context.activity.from_property, str(context.activity.conversation.id))
    return replace(actor, workspace=tenant_of(context))


def command_of(text: str, commands: list[str]) -> tuple[str, str] | None:
    """`post ...`, `/post ...` or `@chatops post ...` (the mention is already stripped)."""
    cleaned = re.sub(r"<at>[^<]*</at>", " ", text or "").strip()
    word, _, rest = cleaned.partition(" ")
    word = word.lstrip("/").lower()
    return (word, rest.strip()) if word in commands else None


@dataclass(frozen=True)
class TeamsHandlers:
    core: Core
    registry: CommandRegistry
    chat: TeamsChat
    approval_reactions: tuple[str, ...]

    @property
    def context(self) -> CommandContext:
        return CommandContext(core=self.core, chat=self.chat)

    def register(self, app: AgentApplication[TurnState]) -> None:
        app.before_turn(self.allowed_tenant)
        app.before_turn(self.remember_conversation)
        app.activity("message")(self.on_message)
        app.adaptive_card.action_execute(re.compile(r".*"))(self.on_card_action)
        app.message_reaction("reactionsAdded")(self.on_reactions_added)
        app.message_reaction("reactionsRemoved")(self.on_reactions_removed)
        app.error(self.on_error)

    async def allowed_tenant(self, context: TurnContext, state: TurnState) -> bool:
        """A tenant off CHATOPS_WORKSPACES ends the turn before anything is stored: a message
        gets a friendly answer, a card action a 403 error answer, anything else nothing."""
        tenant = tenant_of(context)
        if self.core.role_policy.allows_workspace(tenant):
            return True
        log.warning("teams_tenant_refused", tenant=tenant)
        activity = context.activity
        if activity.type == ActivityTypes.message:
            await context.send_activity(plain_message(workspace_refused(tenant)))
        elif activity.type == ActivityTypes.invoke:
            error = {"code": "Forbidden", "message": workspace_refused(tenant)}
            answer = {"statusCode": 403, "type": ERROR_TYPE, "value": error}
            await context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response,
                    value=InvokeResponse(status=403, body=answer),
                )
            )
        return False

    async def remember_conversation(self, context: TurnContext, state: TurnState) -> bool:
        """Store the conversation reference: alerts and card updates are sent to it later."""
        reference = context.activity.get_conversation_reference()
        async with self.core.db.transaction() as session:
            await ConversationStore(session).remember(
                PLATFORM,
                str(context.activity.conversation.id),
                reference.model_dump(mode="json", by_alias=True, exclude_none=True),
                now=self.core.clock.now(),
            )
        return True

    async def on_message(self, context: TurnContext, state: TurnState) -> None:
        value = context.activity.value
        if not context.activity.text and isinstance(value, dict) and FALLBACK_VERB in value:
            await self.on_card_submit(context, value)
            return
        parsed = command_of(context.activity.text or "", self.registry.commands)
        if parsed is None:
            await context.send_activity(
                plain_message(
                    "Commands are `post`, `reply`, `alerts` and `social`; try `social help`."
                )
            )
            return
        command, text = parsed
        invocation = Invocation(actor_in(context), channel_of(context), command, text)
        for reply in await self.registry.dispatch(self.context, invocation):
            if reply.card is None:
                await context.send_activity(plain_message(reply.render()))
            else:
                await context.send_activity(_with_card(reply.render(), reply.card))

    async def on_card_action(
        self, context: TurnContext, state: TurnState, data: Any
    ) -> AdaptiveCardInvokeResponse:
        """Do what the button says; the answer is the refreshed card for the person who acted."""
        value: dict[str, Any] = (
            context.activity.value if isinstance(context.activity.value, dict) else {}
        )
        verb = str((value.get("action") or {}).get("verb", ""))
        return await self._act(context, verb, dict(data or {}))

    async def on_card_submit(self, context: TurnContext, values: dict[str, Any]) -> None:
        """The Action.Submit fallback of a client without Universal Actions: the same action.

        Its answer cannot replace the card, so the card the button was on is updated in
        place, and a refusal or error is said in the conversation.
        """
        answer = await self._act(context, str(values.get(FALLBACK_VERB, "")), values)
        card_id = context.activity.reply_to_id
        if answer.type == CONTENT_TYPE and isinstance(answer.value, dict):
            if card_id:
                await context.update_activity(content_activity(answer.value, str(card_id)))
        elif answer.type == MESSAGE_TYPE:
            await context.send_activity(plain_message(str(answer.value)))
        elif isinstance(answer.value, dict):
            await context.send_activity(plain_message(str(answer.value.get("message", ""))))

    async def _act(
        self, context: TurnContext, verb: str, values: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        """A refusal is a message for the person (the request was understood); an action that
        is not one of ours is an error answer (400), as the Universal Actions model says."""
        actor = actor_in(context)
        try:
            subject = subject_id(values.get("id"))
            if verb.startswith("alert_"):
                return await self._alert_action(verb, subject, actor, values, channel_of(context))
            return await self._draft_action(verb, subject, actor, values)
        except OutdatedCard as outdated:
            card = draft_card(outdated.draft, zone=self.core.zone, labels=self.core.label)
            return _card_response(with_notice(adaptive_card(card), str(outdated)))
        except ChatOpsError as error:
            return factory.message(str(error))
        except ValueError:
            return factory.bad_request("That card action is not valid.")
        except Exception as error:
            log.error("teams_card_action_failed", error_type=type(error).__name__)
            return factory.internal_error(FRIENDLY_ERROR)

    async def _draft_action(
        self, verb: str, draft_id: int, actor: Actor, values: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        workflow = self.core.workflow
        if verb == "draft_approve":
            seen = revision_of(values.get("revision"))
            await workflow.approve(actor, draft_id, Via.BUTTON, seen_revision=seen)
        elif verb == "draft_reject":
            await workflow.reject(actor, draft_id, str(values.get(REASON_INPUT, "")).strip())
        elif verb == "draft_edit":
            text = str(values.get(TEXT_INPUT, "")).strip()
            opened_on = edit_revision(values.get("revision"))
            await workflow.edit(actor, draft_id, text, seen_revision=opened_on)
        elif verb == "draft_cancel":
            await workflow.cancel(actor, draft_id)
        elif verb == "draft_retry":
            await workflow.retry(actor, draft_id)
        elif verb != "refresh":
            raise ValueError(verb)
        draft = await workflow.get(draft_id, actor)
        card = draft_card(draft, zone=self.core.zone, labels=self.core.label)
        return _card_response(adaptive_card(card))

    async def _alert_action(
        self, verb: str, alert_id: int, actor: Actor, values: dict[str, Any], channel: ChannelRef
    ) -> AdaptiveCardInvokeResponse:
        desk = self.core.alerts
        if verb == "alert_assign":
            alert = await desk.assign(actor, alert_id)
        elif verb == "alert_handled":
            alert = await desk.mark_handled(actor, alert_id)
        elif verb == "alert_reply":
            alert = await desk.get(alert_id, actor)
            text = str(values.get(TEXT_INPUT, "")).strip()
            draft = await self.core.workflow.create(
                actor, alert.channel, NewDraft(text=text, reply_to=alert.mention)
            )
            trouble = await show_reply_draft(self.context, alert.channel, draft)
            if trouble is not None:
                # Teams has no private message: the invoke answer, which only the person who
                # clicked sees, carries the draft's card (or the alert's) with what went wrong.
                shown = trouble.card or self._alert_card(alert)
                return _card_response(with_notice(adaptive_card(shown), trouble.render()))
        else:
            raise ValueError(verb)
        return _card_response(adaptive_card(self._alert_card(alert)))

    def _alert_card(self, alert: Alert) -> Card:
        return alert_card(alert, zone=self.core.zone, labels=self.core.notifier.label)

    async def on_reactions_added(self, context: TurnContext, state: TurnState) -> None:
        await self._reactions(context, context.activity.reactions_added or [], added=True)

    async def on_reactions_removed(self, context: TurnContext, state: TurnState) -> None:
        await self._reactions(context, context.activity.reactions_removed or [], added=False)

    async def _reactions(self, context: TurnContext, reactions: list[Any], *, added: bool) -> None:
        """Teams reaction types are free strings; the first approval reaction among them
        approves (or is withdrawn); the core normalizes and decides which ones approve."""
        target = context.activity.reply_to_id
        if not target:
            return
        channel = channel_of(context)
        reacted = MessageRef(channel, str(target))
        shown = await self.core.workflow.shown_on(reacted)
        if shown is None:
            return
        draft_id, seen = shown
        actor = actor_in(context)
        for reaction in reactions:
            kind = str(getattr(reaction, "type", "") or "")
            invocation = Invocation(actor, channel, "react", kind)
            try:
                replies = await approve_by_reaction(
                    self.context,
                    invocation,
                    draft_id,
                    kind,
                    added=added,
                    seen_revision=seen,
                    card=reacted,
                    approval_reactions=self.approval_reactions,
                )
                if not replies:  # not an approval reaction (the core decides, normalized)
                    continue
            except OutdatedCard as outdated:
                card = draft_card(outdated.draft, zone=self.core.zone, labels=self.core.label)
                await context.send_activity(_with_card(f"{actor.name or 'You'}: {outdated}", card))
            except ChatOpsError as error:
                await context.send_activity(plain_message(f"{actor.name or 'You'}: {error}"))
            return

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        """Log what happened; tell the person something friendly, never the exception text."""
        log.error("teams_turn_failed", error_type=type(error).__name__)
        try:
            await context.send_activity(plain_message(FRIENDLY_ERROR))
        except Exception:
            log.warning("teams_error_reply_failed")


def _with_card(text: str, card: Card) -> Activity:
    """A message with a card below it (Teams has no private messages in a channel)."""
    content = adaptive_card(card)
    return Activity(
        type="message",
        text=text,
        text_format="plain",
        attachments=[Attachment(content_type=CONTENT_TYPE, content=content)],
    )


def _card_response(card: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type=CONTENT_TYPE, value=card)
