"""Core cards as Block Kit, built with slack_sdk's models: pure translation.

Outside text goes into `plain_text` objects where no markup is needed (the text that will be
published, titles, labels), so it shows exactly as it is; everything else is mrkdwn built by
`text.Mrkdwn`, sent with `verbatim: true`. Every object is cut to Slack's documented limits
(`limits.py`) by construction, with a visible "…" or "…and N more".
"""

from __future__ import annotations

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

from adapters.chat.slack.limits import (
    ACTIONS_ELEMENTS,
    BUTTON_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    INPUT_LABEL,
    INPUT_MAX_LENGTH,
    MESSAGE_BLOCKS,
    MESSAGE_TEXT,
    PLACEHOLDER,
    SECTION_FIELDS,
    SECTION_TEXT,
    TEXT_OBJECT,
    VIEW_BUTTON,
    VIEW_TITLE,
    clip,
    size,
)
from adapters.chat.slack.text import Mrkdwn, escape
from chatops.chat.cards import Card, CardAction, CardField, ChatUser
from chatops.domain.types import Draft, Severity, Subscription
from commands.parsing import button_value

PLATFORM = "slack"
REJECT_CALLBACK = "draft_reject_modal"
EDIT_CALLBACK = "draft_edit_modal"
REPLY_CALLBACK = "alert_reply_modal"
INPUT_BLOCK = "input"
INPUT_ACTION = "value"
FALLBACK_PREVIEW = 120
HOME_DRAFTS = 20
HOME_SUBSCRIPTIONS = 50


def card_blocks(card: Card) -> list[Block]:
    """The card as blocks: title, the text as it will appear, facts, findings, buttons."""
    title = card.title if not card.badge else f"{card.title} [{card.badge}]"
    head: list[Block] = [HeaderBlock(text=_plain(title, HEADER_TEXT))]
    if card.body:
        head.append(SectionBlock(text=_plain(card.body, SECTION_TEXT)))
    tail: list[Block] = []
    if card.kind == "draft":
        tail.append(SectionBlock(text=_md(_findings(card), SECTION_TEXT)))
    if card.link:
        label = "View the live post" if card.kind == "draft" else "Open the mention"
        tail.append(SectionBlock(text=_md(Mrkdwn().link(card.link, label), SECTION_TEXT)))
    if card.actions:
        tail.append(
            ActionsBlock(
                block_id=f"{card.kind}:{card.subject_id}",
                elements=[_button(action) for action in card.actions[:ACTIONS_ELEMENTS]],
            )
        )
    if card.footer:
        tail.append(ContextBlock(elements=[_md(Mrkdwn().text(card.footer), TEXT_OBJECT)]))
    room = MESSAGE_BLOCKS - len(head) - len(tail)
    return [*head, *_field_sections(card.fields, room), *tail]


def notice_and_card(notice: str, card: Card) -> list[Block]:
    """A message of ours above a card, e.g. why an approval from an outdated card was
    refused, above the current card."""
    notice_block = SectionBlock(text=MarkdownTextObject(text=f":warning: {escape(notice)}"))
    return [notice_block, *card_blocks(card)]


def fallback_text(card: Card) -> str:
    """The notification text Slack shows where blocks cannot be rendered."""
    return message_text(f"{card.title}: {clip(card.body, FALLBACK_PREVIEW)}")


def message_text(text: str) -> str:
    """A message's top-level `text` (thread notes, replies, ephemerals): plain text, escaped."""
    return Mrkdwn().text(text).render(MESSAGE_TEXT)


def _field_sections(fields: Sequence[CardField], room: int) -> list[Block]:
    """Facts in sections of at most ten, in at most `room` sections."""
    shown = list(fields)
    most = room * SECTION_FIELDS
    if len(shown) > most:
        hidden = len(shown) - most + 1
        shown = [*shown[: most - 1], CardField("More", f"{hidden} more not shown")]
    return [
        SectionBlock(fields=[_field(f) for f in shown[start : start + SECTION_FIELDS]])
        for start in range(0, len(shown), SECTION_FIELDS)
    ]


def _field(field: CardField) -> MarkdownTextObject:
    text = Mrkdwn().markup(f"*{escape(field.label)}*").line()
    for part in field.parts or (field.value,):
        if isinstance(part, ChatUser):
            _person(text, part)
        else:
            text.text(part)
    return _md(text, FIELD_TEXT)


def _person(text: Mrkdwn, user: ChatUser) -> Mrkdwn:
    """A mention only for a Slack user the bot resolved; other platforms' users by name."""
    return text.user(user.user_id) if user.platform == PLATFORM else text.text(user.user_id)


def _findings(card: Card) -> Mrkdwn:
    text = Mrkdwn()
    if not card.findings:
        return text.markup(":white_check_mark: No policy findings.")
    for number, finding in enumerate(card.findings):
        blocking = finding.severity is Severity.BLOCKING
        icon = ":no_entry:" if blocking else ":warning:"
        kind = "Blocking" if blocking else "Warning"
        if number:
            text.line()
        text.markup(f"{icon} *{kind}* `").text(finding.code).markup("`: ").text(finding.message)
        if finding.override:
            text.markup(" _(accepted by ").text(finding.override).markup(")_")
        if finding.suggestion:
            text.markup("\n      _").text(finding.suggestion).markup("_")
    return text


def _button(action: CardAction) -> ButtonElement:
    return ButtonElement(
        text=_plain(action.label, BUTTON_TEXT),
        action_id=action.action_id,
        value=button_value(action.value, action.revision),
        style=action.style if action.style in ("primary", "danger") else None,
    )


def _plain(text: str, limit: int) -> PlainTextObject:
    """Outside text exactly as it is: plain_text is never parsed for markup or mentions,
    and `emoji: false` shows `:fire:` as typed, as the network will publish it."""
    return PlainTextObject(text=clip(text, limit) or " ", emoji=False)


def _md(text: Mrkdwn, limit: int) -> MarkdownTextObject:
    return MarkdownTextObject(text=text.render(limit) or " ", verbatim=True)


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
    """A modal with one multi-line text input (reason, new text, reply).

    Slack refuses a modal whose `initial_value` is longer than the input's `max_length`, and
    cutting the text would save a cut text: a text too long for the box is not filled in,
    and the input's hint says so.
    """
    fits = size(initial) <= INPUT_MAX_LENGTH
    hint = (
        None
        if fits
        else _plain(
            f"The current text has {size(initial):,} characters, more than a Slack text box "
            f"holds ({INPUT_MAX_LENGTH:,}), so it is not filled in. Type the whole new text, "
            "or use /social edit ID TEXT.",
            INPUT_LABEL,
        )
    )
    return View(
        type="modal",
        callback_id=callback_id,
        title=_plain(title, VIEW_TITLE),
        submit=_plain(submit, VIEW_BUTTON),
        close=_plain("Cancel", VIEW_BUTTON),
        private_metadata=metadata,
        blocks=[
            InputBlock(
                block_id=INPUT_BLOCK,
                label=_plain(label, INPUT_LABEL),
                hint=hint,
                optional=optional,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    initial_value=initial if initial and fits else None,
                    placeholder=_plain(placeholder, PLACEHOLDER) if placeholder else None,
                    max_length=INPUT_MAX_LENGTH,
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
    """App Home: what waits for me, what is in the queue, which channels hear what.

    At most 5 + 21 + 21 + 1 = 48 blocks, whatever the desk holds (a view takes 100): long
    lists end with "…and N more" and where to see them all.
    """
    blocks: list[Block] = [HeaderBlock(text=_plain("Waiting for your approval", HEADER_TEXT))]
    blocks += _draft_lines(awaiting, "Nothing is waiting for your approval.", approve=True)
    blocks += [DividerBlock(), HeaderBlock(text=_plain("Queue", HEADER_TEXT))]
    blocks += _draft_lines(queue, "The queue is empty.", approve=False)
    blocks += [DividerBlock(), HeaderBlock(text=_plain("Subscriptions", HEADER_TEXT))]
    blocks.append(SectionBlock(text=_md(_subscription_lines(subscriptions), SECTION_TEXT)))
    return View(type="home", blocks=blocks)


def _subscription_lines(subscriptions: Sequence[Subscription]) -> Mrkdwn:
    text = Mrkdwn()
    if not subscriptions:
        return text.text(
            "No channel I am in subscribes to mentions. Try `/alerts subscribe flood`."
        )
    for number, subscription in enumerate(subscriptions[:HOME_SUBSCRIPTIONS]):
        if number:
            text.line()
        text.channel(subscription.channel.channel_id).markup(f" · id {subscription.id} · ")
        text.text(subscription.rule)
    hidden = len(subscriptions) - HOME_SUBSCRIPTIONS
    if hidden > 0:
        text.line().markup(f"…and {hidden} more: `/alerts list` in a channel shows its own.")
    return text


def _draft_lines(drafts: Sequence[Draft], empty: str, *, approve: bool) -> list[Block]:
    if not drafts:
        return [_note(empty)]
    blocks: list[Block] = []
    for draft in drafts[:HOME_DRAFTS]:
        approvals = f"{len(draft.approvals)}/{draft.required_approvals} approvals"
        text = Mrkdwn().markup(f"*#{draft.id}* · ").text(f"{draft.state.value} · {approvals} · ")
        text.text(f"@{draft.account}").markup(" by ")
        _person(text, ChatUser(draft.author_platform, draft.author))
        for line in draft.text.splitlines() or [""]:
            text.line().markup(">").text(line)
        accessory = (
            ButtonElement(
                text=_plain("Approve", BUTTON_TEXT),
                action_id="draft_approve",
                value=button_value(str(draft.id), draft.revision),
                style="primary",
            )
            if approve
            else None
        )
        blocks.append(SectionBlock(text=_md(text, SECTION_TEXT), accessory=accessory))
    if len(drafts) > HOME_DRAFTS:
        blocks.append(_note(f"…and {len(drafts) - HOME_DRAFTS} more. See `/social queue`."))
    return blocks


def _note(text: str) -> SectionBlock:
    return SectionBlock(text=_md(Mrkdwn().text(text), SECTION_TEXT))
