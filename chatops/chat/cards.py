"""Platform-neutral cards: what a draft or an alert shows, whatever renders it.

Adapters turn a `Card` into Block Kit, an Adaptive Card or console text; the decisions
about what a person needs to see live here, once. Each adapter shows every finding with its
code (`unapproved_link`), which is what `/social override ID CODE REASON` takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from chatops.domain.accounts import DraftTarget, TargetState
from chatops.domain.drafts import DraftEvent, allowed_events
from chatops.domain.types import Alert, Draft, DraftKind, DraftState, Finding, Severity
from chatops.drafts.policy import ALT_TEXT_CODES, IMAGE_CODES
from chatops.drafts.scheduling import format_local

STATE_LABELS = {
    DraftState.PENDING: "Waiting for approval",
    DraftState.APPROVED: "Approved",
    DraftState.PUBLISHING: "Publishing",
    DraftState.PUBLISHED: "Published",
    DraftState.REJECTED: "Rejected",
    DraftState.CANCELLED: "Cancelled",
    DraftState.FAILED: "Publication failed",
}


@dataclass(frozen=True)
class ChatUser:
    """A chat user by the id their platform gave the bot (from a signed request, not from text
    anyone typed), so an adapter may show them as a live mention on that platform."""

    platform: str
    user_id: str


@dataclass(frozen=True)
class CardField:
    """A fact on a card. `value` is plain text; when the fact names chat users, `parts` holds
    the same text as typed pieces, so only those users become mentions, never a string that
    merely looks like a user id."""

    label: str
    value: str
    parts: tuple[str | ChatUser, ...] = ()

    @classmethod
    def of(cls, label: str, *parts: str | ChatUser) -> CardField:
        value = "".join(p if isinstance(p, str) else p.user_id for p in parts)
        return cls(label, value, parts)


@dataclass(frozen=True)
class CardAction:
    """A button; `action_id` names the verb, `value` the subject it acts on.

    `revision` is the revision of the draft the card was built from (None on alert cards):
    every adapter carries it in the button, so an approval approves the text on that card.
    """

    action_id: str
    label: str
    value: str
    style: str = "default"
    revision: int | None = None


@dataclass(frozen=True)
class Card:
    kind: str
    subject_id: int
    title: str
    body: str
    fields: tuple[CardField, ...] = ()
    findings: tuple[Finding, ...] = ()
    actions: tuple[CardAction, ...] = ()
    link: str | None = None
    badge: str = ""
    footer: str = ""


TARGET_STATES = {
    TargetState.WAITING: "to publish",
    TargetState.PUBLISHING: "publishing",
    TargetState.PUBLISHED: "published",
    TargetState.FAILED: "failed",
}

NetworkLabels = Callable[[str], str]
"""A network's name for people (`sandbox-mastodon` -> "Sandbox Mastodon")."""


def draft_card(draft: Draft, *, zone: ZoneInfo, labels: NetworkLabels) -> Card:
    """The approval card: everything an approver needs to decide, and the buttons to do it.

    A draft to several targets shows each target's state, live link and own text (its
    variant), and each finding names the target it applies to."""
    kind = "Reply" if draft.kind is DraftKind.REPLY else "Post"
    several = len(draft.targets) > 1
    fields = [CardField("State", _state(draft))]
    if several:
        fields += [_target_field(t, labels) for t in draft.targets]
    else:
        fields.append(CardField("Account", f"@{draft.account} on {labels(draft.network)}"))
        fields += [
            CardField(f"Own text for {t.key}", t.variant) for t in draft.targets if t.variant
        ]
    fields += [_authors(draft), CardField.of("Approvals", *_approvals(draft))]
    if draft.reply_to_url or draft.reply_to_id:
        fields.insert(2, CardField("In reply to", draft.reply_to_url or str(draft.reply_to_id)))
    for number, item in enumerate(draft.media, start=1):
        described = f"alt text: {item.alt_text}" if item.alt_text else "NO ALT TEXT"
        fields.append(CardField(f"Image {number}", f"{item.url} ({described})"))
    if draft.scheduled_at is not None:
        fields.append(CardField("Scheduled", format_local(draft.scheduled_at, zone)))
    if draft.published_url and not several:
        fields.append(CardField("Live post", draft.published_url))
    if draft.state is DraftState.FAILED and draft.error and not several:
        fields.append(CardField("Error", draft.error))
    footer = ""
    if draft.state is DraftState.PENDING and draft.blocking_findings:
        footer = _blocked(draft)
    elif draft.state is DraftState.REJECTED:
        footer = f"Revise it with Edit or `/social edit {draft.id} NEW TEXT` to resubmit it."
    footer = " ".join(part for part in (footer, _override_hint(draft)) if part)
    return Card(
        kind="draft",
        subject_id=draft.id,
        title=f"{kind} draft {draft.id}",
        body=draft.text,
        fields=tuple(fields),
        findings=tuple(_named(f, draft, labels) for f in draft.findings),
        actions=_draft_actions(draft),
        link=draft.published_url,
        badge="SANDBOX" if any(_sandbox(t.network) for t in draft.targets) else "",
        footer=footer,
    )


def _state(draft: Draft) -> str:
    if draft.partly_published:
        summary = draft.summary
        return summary[:1].upper() + summary[1:]
    return STATE_LABELS[draft.state]


def _target_field(target: DraftTarget, labels: NetworkLabels) -> CardField:
    """One target: `Sandbox Mastodon @PortAlderCity: published, https://...`."""
    status = TARGET_STATES[target.state]
    if target.state is TargetState.PUBLISHED and target.published_url:
        status += f", {target.published_url}"
    elif target.state is TargetState.FAILED and target.error:
        status += f": {target.error}"
    if target.variant is not None:
        status += f". Own text: {target.variant}"
    return CardField(f"{labels(target.network)} @{target.account}", status)


def _named(finding: Finding, draft: Draft, labels: NetworkLabels) -> Finding:
    """A finding of one target says which, so people know where it applies."""
    target = draft.target(finding.target) if finding.target else None
    if target is None:
        return finding
    return replace(
        finding, message=f"{labels(target.network)} @{target.account}: {finding.message}"
    )


def _sandbox(network: str) -> bool:
    return network.lower().startswith("sandbox")


def alert_card(alert: Alert, *, zone: ZoneInfo, labels: NetworkLabels) -> Card:
    """A relayed mention: who said what, to which of the agency's accounts on which network,
    when, and why this channel sees it. The account is who a reply will come from."""
    mention = alert.mention.mention
    author = mention.author
    network_label = labels(mention.network)
    who = f"@{author.handle}"
    if author.name:
        who = f"{author.name} ({who})"
    reach = f"{author.followers:,} followers" + (", verified" if author.verified else "")
    fields = [
        CardField("From", f"{who}, {reach}"),
        CardField("To", _addressed_to(mention.account, network_label)),
        CardField("When", format_local(mention.created_at, zone)),
        CardField("Why", "matched " + ", ".join(alert.matched) if alert.matched else "subscribed"),
        CardField("Score", _score(alert)),
        CardField.of("Status", *_alert_status(alert)),
    ]
    if mention.language and mention.language != "en":
        fields.insert(3, CardField("Language", mention.language))
    if alert.repeats:
        fields.append(CardField("Reposts", f"reposted or quoted {alert.repeats} more time(s)"))
    title = "Question" if alert.is_question else "Mention"
    return Card(
        kind="alert",
        subject_id=alert.id,
        title=f"{title} on {network_label}",
        body=mention.text,
        fields=tuple(fields),
        actions=_alert_actions(alert),
        link=mention.url,
        badge="SANDBOX" if _sandbox(mention.network) else "",
        footer=f"Reply with `/reply {mention.external_id} TEXT`",
    )


def _addressed_to(account: str, network_label: str) -> str:
    """`@PortAlderWater on Sandbox Mastodon`, or, for a search hit that names none of the
    agency's accounts, where it was found and who would answer it."""
    if account:
        return f"@{account} on {network_label}"
    return (
        f"Found by search on {network_label}; it names none of our accounts, so a reply "
        "goes from the default account there"
    )


def _blocked(draft: Draft) -> str:
    return f"Cannot be approved until the blocking findings are fixed: {blocked_fixes(draft)}."


def blocked_fixes(draft: Draft) -> str:
    """How to unblock the draft, naming the command for each kind of fix it needs (the card
    and the receipt of `/post` say the same)."""
    codes = {f.code for f in draft.blocking_findings}
    fixes = []
    if codes - IMAGE_CODES:
        fixes.append(f"edit the text (Edit, or `/social edit {draft.id} NEW TEXT`)")
    if codes & ALT_TEXT_CODES:
        fixes.append(f"describe image N with `/social alt {draft.id} N DESCRIPTION`")
    if "too_many_images" in codes:
        fixes.append("start a new draft with fewer images")
    return " and ".join(fixes)


def _override_hint(draft: Draft) -> str:
    """How an admin accepts a warning, with the code of the first still open: the command
    needs the code, which each finding on the card shows."""
    if draft.state is not DraftState.PENDING:
        return ""
    codes = [f.code for f in draft.findings if f.severity is Severity.WARNING and not f.override]
    if not codes:
        return ""
    return f"An admin can accept a warning: `/social override {draft.id} {codes[0]} REASON`."


def _approvals(draft: Draft) -> tuple[str | ChatUser, ...]:
    parts: list[str | ChatUser] = [f"{len(draft.approvals)}/{draft.required_approvals} ("]
    for number, approval in enumerate(draft.approvals):
        if number:
            parts.append(", ")
        parts.append(ChatUser(approval.platform, approval.approver))
    parts.append(")" if draft.approvals else "none yet)")
    return tuple(parts)


def _authors(draft: Draft) -> CardField:
    """Everyone who wrote part of the draft: the creator, then each editor, marked."""
    authors = draft.authors
    if len(authors) <= 1:
        return CardField.of("Author", ChatUser(draft.author_platform, draft.author))
    parts: list[str | ChatUser] = []
    for number, author in enumerate(authors):
        if number:
            parts.append(", ")
        parts.append(ChatUser(author.platform, author.user_id))
        if number:
            parts.append(" (edited)")
    return CardField.of("Authors", *parts)


def _score(alert: Alert) -> str:
    """Why you're seeing this: the notability score and what made it."""
    if not alert.score_reasons:
        return f"{alert.score}/100"
    return f"{alert.score}/100: " + "; ".join(alert.score_reasons)


def _alert_status(alert: Alert) -> tuple[str | ChatUser, ...]:
    """Who handles it: users act on an alert through its channel, so they are its platform's."""
    platform = alert.channel.platform
    if alert.state == "handled" and alert.handled_by:
        return ("Handled by ", ChatUser(platform, alert.handled_by))
    if alert.state == "handled":
        return ("Handled",)
    if alert.assignee:
        return ("Assigned to ", ChatUser(platform, alert.assignee))
    return ("Open",)


def _alert_actions(alert: Alert) -> tuple[CardAction, ...]:
    value = str(alert.id)
    reply = CardAction("alert_reply", "Reply", value, "primary")
    if alert.state == "handled":
        return (reply,)
    return (
        reply,
        CardAction("alert_assign", "Assign to me", value),
        CardAction("alert_handled", "Mark handled", value),
    )


def _draft_actions(draft: Draft) -> tuple[CardAction, ...]:
    events = allowed_events(draft.state)
    value, revision = str(draft.id), draft.revision
    actions = []
    if DraftEvent.APPROVE in events:
        actions.append(CardAction("draft_approve", "Approve", value, "primary", revision))
    if DraftEvent.REJECT in events:
        actions.append(CardAction("draft_reject", "Reject", value, "danger", revision))
    if DraftEvent.EDIT in events:
        actions.append(CardAction("draft_edit", "Edit", value, revision=revision))
    if DraftEvent.RETRY in events:
        actions.append(CardAction("draft_retry", "Retry", value, "primary", revision))
    if DraftEvent.CANCEL in events:
        actions.append(CardAction("draft_cancel", "Cancel", value, revision=revision))
    return tuple(actions)
