"""Core cards as Block Kit, built with slack_sdk's models: pure translation."""

from __future__ import annotations

import re
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from adapters.slack.text import escape, quote
from chatops.cards import Card
from chatops.domain.types import Draft, Severity, Subscription
from commands.parsing import button_value

_USER_ID = re.compile(r"\b[UW][A-Z0-9]{8,}\b")
MAX_FIELDS = 10
TEXT_LIMIT = 2900

REJECT_CALLBACK = "draft_reject_modal"
EDIT_CALLBACK = "draft_edit_modal"
REPLY_CALLBACK = "alert_reply_modal"
INPUT_BLOCK = "input"
INPUT_ACTION = "value"


def card_blocks(card: Card) -> list[Block]:
    """The card as blocks: title, the text as it will appear, facts, findings, buttons."""
    title = card.title if not card.badge else f"{card.title} [{card.badge}]"
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title[:150]))]
    blocks.append(SectionBlock(text=MarkdownTextObject(text=quote(card.body)[:TEXT_LIMIT])))
    fields = [
        MarkdownTextObject(text=f"*{escape(f.label)}*\n{_value(f.value)}")
        for f in card.fields[:MAX_FIELDS]
    ]
    if fields:
        blocks.append(SectionBlock(fields=fields))
    if card.kind == "draft":
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_findings(card))))
    if card.link:
        label = "View the live post" if card.kind == "draft" else "Open the mention"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"<{card.link}|{label}>")))
    if card.actions:
        blocks.append(
            ActionsBlock(
                block_id=f"{card.kind}:{card.subject_id}",
                elements=[
                    ButtonElement(
                        text=action.label,
                        action_id=action.action_id,
                        value=button_value(action.value, action.revision),
                        style=action.style if action.style in ("primary", "danger") else None,
                    )
                    for action in card.actions
                ],
            )
        )
    if card.footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(card.footer))]))
    return blocks


def notice_and_card(notice: str, card: Card) -> list[Block]:
    """A message of ours above a card, e.g. why an approval from an outdated card was
    refused, above the current card."""
    notice_block = SectionBlock(text=MarkdownTextObject(text=f":warning: {escape(notice)}"))
    return [notice_block, *card_blocks(card)]


def fallback_text(card: Card) -> str:
    """The notification text Slack shows where blocks cannot be rendered."""
    preview = card.body if len(card.body) <= 120 else card.body[:119] + "…"
    return f"{card.title}: {preview}"


def _value(value: str) -> str:
    """A card fact as mrkdwn: links clickable, Slack user ids shown as their names."""
    if value.startswith(("http://", "https://")):
        return f"<{value}>"
    return _USER_ID.sub(lambda match: f"<@{match.group(0)}>", escape(value))


def _findings(card: Card) -> str:
    if not card.findings:
        return ":white_check_mark: No policy findings."
    lines = []
    for finding in card.findings:
        icon = ":no_entry:" if finding.severity is Severity.BLOCKING else ":warning:"
        kind = "Blocking" if finding.severity is Severity.BLOCKING else "Warning"
        accepted = f" _(accepted by {escape(finding.override)})_" if finding.override else ""
        lines.append(f"{icon} *{kind}:* {escape(finding.message)}{accepted}")
        if finding.suggestion:
            lines.append(f"      _{escape(finding.suggestion)}_")
    return "\n".join(lines)[:TEXT_LIMIT]


def text_modal(
    *,
    callback_id: str,
    title: str,
    label: str,
    submit: str,
    metadata: str,
    initial: str = "",
    placeholder: str = "",
    optional: bool = False,
) -> View:
    """A modal with one multi-line text input (reason, new text, reply)."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title[:24]),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=metadata,
        blocks=[
            InputBlock(
                block_id=INPUT_BLOCK,
                label=PlainTextObject(text=label),
                optional=optional,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    initial_value=initial or None,
                    placeholder=PlainTextObject(text=placeholder) if placeholder else None,
                    max_length=3000,
                ),
            )
        ],
    )


def home_view(
    *,
    awaiting: Sequence[Draft],
    queue: Sequence[Draft],
    subscriptions: Sequence[Subscription],
) -> View:
    """App Home: what waits for me, what is in the queue, which channels hear what."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Waiting for your approval"))]
    blocks += _draft_lines(awaiting, "Nothing is waiting for your approval.", approve=True)
    blocks += [DividerBlock(), HeaderBlock(text=PlainTextObject(text="Queue"))]
    blocks += _draft_lines(queue, "The queue is empty.", approve=False)
    blocks += [DividerBlock(), HeaderBlock(text=PlainTextObject(text="Subscriptions"))]
    if not subscriptions:
        blocks.append(
            _note("No channel I am in subscribes to mentions. Try `/alerts subscribe flood`.")
        )
    for subscription in subscriptions:
        blocks.append(
            _note(
                f"<#{subscription.channel.channel_id}> · id {subscription.id} · "
                f"{escape(subscription.rule)}"
            )
        )
    return View(type="home", blocks=blocks)


def _draft_lines(drafts: Sequence[Draft], empty: str, *, approve: bool) -> list[Block]:
    if not drafts:
        return [_note(empty)]
    blocks: list[Block] = []
    for draft in drafts[:20]:
        author = f"<@{draft.author}>" if draft.author_platform == "slack" else escape(draft.author)
        approvals = f"{len(draft.approvals)}/{draft.required_approvals} approvals"
        text = (
            f"*#{draft.id}* · {draft.state.value} · {approvals} · @{escape(draft.account)}"
            f" by {author}\n{quote(draft.text)}"
        )
        accessory = (
            ButtonElement(
                text="Approve",
                action_id="draft_approve",
                value=button_value(str(draft.id), draft.revision),
                style="primary",
            )
            if approve
            else None
        )
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=text[:TEXT_LIMIT]), accessory=accessory)
        )
    return blocks


def _note(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))
