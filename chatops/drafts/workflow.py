"""Draft use cases: create, approve, withdraw, reject, cancel, edit, vary, retry.

Each runs in one transaction that locks the draft row, applies the state machine,
writes the audit event and, on approval, the outbox row; the cards are refreshed after
the commit. A button, a command and a reaction all arrive here the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.access.authz import RolePolicy, no_such_draft, same_workspace
from chatops.chat.interaction import clean_text
from chatops.chat.notify import Notifier
from chatops.domain.accounts import Account, DraftTarget, TargetState
from chatops.domain.drafts import DraftEvent, next_state
from chatops.domain.errors import (
    EditedMeanwhile,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutdatedCard,
)
from chatops.domain.types import (
    Actor,
    ChannelRef,
    Draft,
    DraftKind,
    DraftState,
    Finding,
    MediaItem,
    MessageRef,
    Role,
    Severity,
    StoredMention,
    Via,
)
from chatops.drafts.agency_policy import AgencyPolicy
from chatops.drafts.compliance import CONTACT_CODES, DEFAULT_RULES, ComplianceRules
from chatops.drafts.policy import media_findings, require_checkable
from chatops.networks import Networks
from chatops.runtime.clock import Clock
from chatops.runtime.logs import bind_draft
from chatops.storage.audit import AuditLog
from chatops.storage.database import Database
from chatops.storage.drafts import (
    DraftStore,
    author_json,
    authors_with,
    findings_to_json,
    media_to_json,
)
from chatops.storage.mentions import MentionStore
from chatops.storage.outbox import OutboxStore
from chatops.storage.tables import DraftRow
from chatops.storage.targets import ChannelTargets


@dataclass(frozen=True)
class Outcome:
    """What an action did, in words for the person who asked."""

    draft: Draft
    message: str
    changed: bool = True


@dataclass(frozen=True)
class NewDraft:
    text: str
    targets: str | None = None
    """What `--to` named (accounts, networks or `all`); None: the channel's default
    targets, else the default account. A reply always goes from the account mentioned."""
    scheduled_at: datetime | None = None
    reply_to: StoredMention | None = None
    media: tuple[MediaItem, ...] = ()


class DraftWorkflow:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        roles: RolePolicy,
        notifier: Notifier,
        networks: Networks,
        required_approvals: int,
        on_due: Callable[[], None] = lambda: None,
        compliance: ComplianceRules | None = None,
    ) -> None:
        self.policy = AgencyPolicy(db, compliance or DEFAULT_RULES)
        self.db = db
        self.clock = clock
        self.roles = roles
        self.notifier = notifier
        self.networks = networks
        self.required_approvals = required_approvals
        self.on_due = on_due

    async def create(self, actor: Actor, channel: ChannelRef, new: NewDraft) -> Draft:
        """A draft belongs to the workspace of the channel it was written in."""
        if not same_workspace(actor, channel.workspace_id):
            raise NotAllowed("You can only draft in a channel of your own workspace.")
        new = replace(new, text=clean_text(new.text))
        require_checkable(new.text)
        accounts = await self._targets(channel, new)
        findings = await self._findings(
            new.text, new.media, [(a.key, a.kind, None) for a in accounts]
        )
        now = self.clock.now()
        async with self.db.transaction() as session:
            store = DraftStore(session)
            rows = [await store.account(a.network, a.handle, now=now) for a in accounts]
            required = max(
                a.required_approvals or row.required_approvals or self.required_approvals
                for a, row in zip(accounts, rows, strict=True)
            )
            reply = new.reply_to
            draft = await store.create(
                DraftRow(
                    kind=(DraftKind.REPLY if reply else DraftKind.POST).value,
                    state=DraftState.PENDING.value,
                    account_id=rows[0].id,
                    text=new.text,
                    author=actor.user_id,
                    author_platform=actor.platform,
                    origin_workspace=channel.workspace_id,
                    origin_channel=channel.channel_id,
                    revision=1,
                    required_approvals=required,
                    scheduled_at=new.scheduled_at,
                    reply_to_mention_id=reply.id if reply else None,
                    reply_to_external_id=reply.mention.external_id if reply else None,
                    reply_to_url=reply.mention.url if reply else None,
                    findings=findings_to_json(findings),
                    media=media_to_json(new.media),
                    authors=[author_json(actor)],
                    created_at=now,
                    updated_at=now,
                ),
                rows,
            )
            bind_draft(draft.id)
            await self._audit(
                session,
                actor,
                "created",
                draft,
                where=channel.channel_id,
                text=draft.text,
                kind=draft.kind.value,
                account=accounts[0].handle,
                targets=[a.key for a in accounts],
                scheduled_at=_iso(draft.scheduled_at),
                reply_to=draft.reply_to_id,
                media=media_to_json(draft.media),
                findings=[f.code for f in findings],
            )
        return draft

    async def attach_card(self, draft_id: int, ref: MessageRef, *, revision: int) -> None:
        """Remember a posted card of the draft and the revision it displays."""
        async with self.db.transaction() as session:
            await DraftStore(session).add_card(
                draft_id, ref, revision=revision, now=self.clock.now()
            )

    async def get(self, draft_id: int, actor: Actor | None = None) -> Draft:
        """The draft as `actor` may see it (a draft of another workspace does not exist for
        them); without an actor, agency-wide, for workers, exports and tests."""
        async with self.db.transaction() as session:
            row = await DraftStore(session).row(draft_id)
            if row is None:
                raise no_such_draft(draft_id)
            draft = await DraftStore(session).get(draft_id)
        if actor is not None:
            self.roles.require_visible(actor, draft)
        return draft

    async def queue(self, actor: Actor | None = None) -> list[Draft]:
        """Open drafts of the actor's workspace; without an actor, of every workspace."""
        async with self.db.transaction() as session:
            return await DraftStore(session).many(
                [DraftState.PENDING, DraftState.APPROVED, DraftState.PUBLISHING, DraftState.FAILED],
                workspace=None if actor is None else actor.workspace,
            )

    async def awaiting(self, actor: Actor) -> list[Draft]:
        """Pending drafts of their workspace this person could approve: not their own, not
        yet approved by them."""
        async with self.db.transaction() as session:
            return await DraftStore(session).awaiting_approval_by(actor.user_id, actor.workspace)

    async def shown_on(self, ref: MessageRef) -> tuple[int, int] | None:
        """(draft id, revision it displays) of a card message: a reaction on it approves
        that revision, the one the person reacting saw."""
        async with self.db.transaction() as session:
            return await DraftStore(session).shown_on(ref)

    async def note_reaction(
        self, ref: MessageRef, actor: Actor, reaction: str, *, added: bool
    ) -> list[str]:
        """Record an approval reaction added to (or removed from) the card at `ref`; the
        reactions the person still has on it. A removal withdraws their approval only when
        none is left, as on the platform, where the other reaction still shows."""
        async with self.db.transaction() as session:
            store = DraftStore(session)
            now = self.clock.now()
            await store.set_reaction(ref, actor.user_id, reaction, present=added, now=now)
            return await store.reactions_on(ref, actor.user_id)

    async def approve(
        self, actor: Actor, draft_id: int, via: Via, *, seen_revision: int
    ) -> Outcome:
        """Approve the revision the approver saw: `seen_revision`, from the button's value,
        the reacted card's record, or the command (which read the current one). If the draft
        has changed since, nothing is approved (`OutdatedCard` carries the current draft)."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            if draft.state is DraftState.APPROVED and actor.user_id in draft.approvers:
                return Outcome(draft, f"You already approved draft {draft_id}.", changed=False)
            if draft.state is not DraftState.PENDING:
                next_state(draft_id, draft.state, DraftEvent.APPROVE)
            if seen_revision != row.revision:
                raise OutdatedCard(draft, seen_revision)
            await self.roles.require_approver(session, actor, draft)
            if draft.blocking_findings:
                problems = "; ".join(_finding_words(f) for f in draft.blocking_findings)
                raise NotAllowed(
                    f"Draft {draft_id} cannot be approved yet: {problems}",
                    hint=_blocking_hint(draft),
                )
            added = await store.add_approval(
                row, approver=actor.user_id, platform=actor.platform, via=via, now=now
            )
            if not added:
                return Outcome(draft, f"You already approved draft {draft_id}.", changed=False)
            count = await store.approval_count(row)
            await self._audit(
                session,
                actor,
                "approval",
                draft,
                via=via.value,
                count=count,
                revision=row.revision,
            )
            if count >= row.required_approvals:
                row.state = next_state(draft_id, draft.state, DraftEvent.APPROVE).value
                row.updated_at = now
                due = row.scheduled_at if row.scheduled_at and row.scheduled_at > now else now
                await self._enqueue(session, draft, row.revision, due_at=due)
                await self._audit(
                    session, actor, "approved", draft, due_at=_iso(due), revision=row.revision
                )
            draft, cards = await self._settled(store, draft_id)
        if draft.state is DraftState.APPROVED:
            self.on_due()
            when = "publishing now" if draft.scheduled_at is None else "scheduled"
            message = f"Draft {draft_id} approved by {actor.name}; {when}."
        else:
            message = (
                f"{actor.name} approved draft {draft_id} "
                f"({count}/{draft.required_approvals} approvals)."
            )
        return await self._announce(draft, cards, message)

    async def withdraw_approval(self, actor: Actor, draft_id: int) -> Outcome:
        """Undo one's approval (a removed reaction) while the draft is still pending."""
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            if draft.state is not DraftState.PENDING:
                return Outcome(
                    draft,
                    f"Draft {draft_id} is {draft.state.value}; approvals can only be withdrawn "
                    "while it is pending.",
                    changed=False,
                )
            if not await store.remove_approval(row, approver=actor.user_id):
                return Outcome(draft, f"You had not approved draft {draft_id}.", changed=False)
            await self._audit(session, actor, "approval_withdrawn", draft)
            draft, cards = await self._settled(store, draft_id)
        message = f"{actor.name} withdrew their approval of draft {draft_id}."
        return await self._announce(draft, cards, message)

    async def reject(self, actor: Actor, draft_id: int, reason: str) -> Outcome:
        reason = clean_text(reason)
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            new_state = next_state(draft_id, draft.state, DraftEvent.REJECT)
            await self.roles.require_role(
                session, actor, Role.APPROVER, f"Rejecting draft {draft_id}"
            )
            self._move(row, new_state)
            await self._audit(session, actor, "rejected", draft, reason=reason)
            draft, cards = await self._settled(store, draft_id)
        message = f"Draft {draft_id} rejected by {actor.name}" + (f": {reason}" if reason else ".")
        return await self._announce(draft, cards, message)

    async def cancel(self, actor: Actor, draft_id: int) -> Outcome:
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            new_state = next_state(draft_id, draft.state, DraftEvent.CANCEL)
            await self.roles.require_author_or_approver(session, actor, draft, "cancel")
            self._move(row, new_state)
            await OutboxStore(session).cancel(draft_id, now=self.clock.now())
            await self._audit(session, actor, "cancelled", draft)
            draft, cards = await self._settled(store, draft_id)
        message = f"Draft {draft_id} cancelled by {actor.name}."
        return await self._announce(draft, cards, message)

    async def edit(
        self, actor: Actor, draft_id: int, text: str, *, seen_revision: int | None = None
    ) -> Outcome:
        """Replace the text. `seen_revision` is the revision an edit form was opened on (a
        card's Edit box, Slack's edit modal): if the draft changed since, the edit would
        overwrite that change unseen, so nothing is saved. A typed command edits the current
        revision."""
        text = clean_text(text)
        if not text.strip():
            raise InvalidInput(
                "The new text is empty.", hint=f"Example: `/social edit {draft_id} New text`."
            )
        require_checkable(text)
        before = await self.get(draft_id, actor)
        findings = await self._findings(text, before.media, self._checked(before))
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            new_state = next_state(draft_id, draft.state, DraftEvent.EDIT)
            await self.roles.require_author_or_approver(session, actor, draft, "edit")
            if seen_revision is not None and seen_revision != row.revision:
                raise EditedMeanwhile(draft, seen_revision, text)
            if _content(draft) != _content(before):  # changed meanwhile: recount, bounded
                findings = await self._findings(
                    text, draft.media, self._checked(draft), session=session
                )
            had_approvals = len(draft.approvals)
            resubmitted = draft.state is DraftState.REJECTED
            row.text = text
            await self._revise(session, row, draft, actor, new_state, findings)
            await self._audit(
                session,
                actor,
                "edited",
                draft,
                old_text=draft.text,
                text=text,
                revision=row.revision,
                approvals_cleared=had_approvals,
                findings=[f.code for f in findings],
                **({"resubmitted": True} if resubmitted else {}),
            )
            draft, cards = await self._settled(store, draft_id)
        message = (
            f"Draft {draft_id} edited by {actor.name}.{_after_edit(had_approvals, resubmitted)}"
        )
        return await self._announce(draft, cards, message)

    async def describe_image(
        self, actor: Actor, draft_id: int, number: int, alt_text: str
    ) -> Outcome:
        """Set an image's alt text: a change of content, so approvals are cleared like an edit."""
        before = await self.get(draft_id, actor)
        findings = await self._findings(
            before.text, _described(before.media, number, alt_text), self._checked(before)
        )
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            if not 1 <= number <= len(draft.media):
                count = len(draft.media)
                raise InvalidInput(
                    f"Draft {draft_id} has {count} image(s), so there is no image {number}.",
                    hint=f"Example: `/social alt {draft_id} 1 A flooded street, closed`.",
                )
            new_state = next_state(draft_id, draft.state, DraftEvent.EDIT)
            await self.roles.require_author_or_approver(session, actor, draft, "edit")
            media = _described(draft.media, number, alt_text)
            if _content(draft) != _content(before):  # changed meanwhile: recount, bounded
                findings = await self._findings(
                    draft.text, media, self._checked(draft), session=session
                )
            had_approvals = len(draft.approvals)
            resubmitted = draft.state is DraftState.REJECTED
            row.media = media_to_json(media)
            await self._revise(session, row, draft, actor, new_state, findings)
            await self._audit(
                session,
                actor,
                "alt_text_set",
                draft,
                image=number,
                alt_text=alt_text.strip(),
                **({"resubmitted": True} if resubmitted else {}),
            )
            draft, cards = await self._settled(store, draft_id)
        after = _after_edit(had_approvals, resubmitted)
        message = f"{actor.name} described image {number} of draft {draft_id}.{after}"
        return await self._announce(draft, cards, message)

    async def override_warning(
        self, actor: Actor, draft_id: int, code: str, reason: str
    ) -> Outcome:
        """An admin accepts a warning, with a reason that is shown on the card and audited."""
        if not reason.strip():
            raise InvalidInput(
                "An override needs a reason.",
                hint=f"Example: `/social override {draft_id} unapproved_link Partner agency site`.",
            )
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            await self.roles.require_role(session, actor, Role.ADMIN, "Overriding a warning")
            findings = list(draft.findings)
            # Every target's open warning of that code: one decision, as one approval is.
            indices = [
                i
                for i, f in enumerate(findings)
                if f.code == code and f.severity is Severity.WARNING and not f.override
            ]
            if not indices:
                codes = ", ".join(f.code for f in findings if f.severity is Severity.WARNING)
                hint = f"Its warnings: {codes or 'none'}. Blocking findings cannot be overridden."
                if any(f.code == code and f.code in CONTACT_CODES for f in findings):
                    hint += (
                        " If it is the agency's own number or address, an admin can add it "
                        "with `/social contacts add`; then edit the draft to check it again."
                    )
                raise InvalidInput(f"Draft {draft_id} has no open warning {code!r}.", hint=hint)
            for index in indices:
                findings[index] = replace(
                    findings[index], override=f"{actor.name}: {reason.strip()}"
                )
            row.findings = findings_to_json(findings)
            await self._audit(session, actor, "warning_overridden", draft, code=code, reason=reason)
            draft, cards = await self._settled(store, draft_id)
        message = f"{actor.name} accepted the {code} warning on draft {draft_id}: {reason.strip()}"
        return await self._announce(draft, cards, message)

    async def retry(self, actor: Actor, draft_id: int, target: str | None = None) -> Outcome:
        """Queue again what failed: every failed target, or only the one named. The
        targets already published are never touched, so they stay published once."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            new_state = next_state(draft_id, draft.state, DraftEvent.RETRY)
            await self.roles.require_role(
                session, actor, Role.APPROVER, f"Retrying draft {draft_id}"
            )
            failed = list(draft.failed_targets)
            if target is not None:
                chosen = self._target_named(draft, target)
                if chosen.state is not TargetState.FAILED:
                    raise InvalidInput(
                        f"Draft {draft_id} did not fail on {chosen.key}: it is "
                        f"{chosen.state.value} there.",
                        hint=_failed_hint(draft),
                    )
                failed = [chosen]
            self._move(row, new_state)
            row.error = None
            targets = {t.id: t for t in await store.target_rows(draft_id)}
            for item in failed:
                targets[item.id].state = TargetState.WAITING.value
                targets[item.id].error = None
                await OutboxStore(session).enqueue(
                    draft_id, item.id, row.revision, due_at=now, now=now
                )
            await self._audit(session, actor, "retried", draft, targets=[t.key for t in failed])
            draft, cards = await self._settled(store, draft_id)
        self.on_due()
        if len(draft.targets) < 2:
            message = f"Draft {draft_id} queued for publication again by {actor.name}."
        else:
            keys = ", ".join(t.key for t in failed)
            message = f"Draft {draft_id} queued for publication again to {keys} by {actor.name}."
        return await self._announce(draft, cards, message)

    async def vary(self, actor: Actor, draft_id: int, target: str, text: str | None) -> Outcome:
        """Give one target its own text (None: back to the draft's text). A change of
        content like an edit: a new revision, approvals cleared, that target checked by its
        network's rules."""
        if text is not None:
            text = clean_text(text)
            if not text.strip():
                raise InvalidInput(
                    "The variant's text is empty.",
                    hint=f"Example: `/social variant {draft_id} x Shorter text for X`; "
                    f"`/social variant {draft_id} x --clear` removes it.",
                )
            require_checkable(text)
        before = await self.get(draft_id, actor)
        chosen = self._target_named(before, target)
        variants = {t.id: t.variant for t in before.targets} | {chosen.id: text}
        findings = await self._findings(before.text, before.media, self._checked(before, variants))
        async with self.db.transaction() as session:
            store, row, draft = await self._locked(session, draft_id, actor)
            new_state = next_state(draft_id, draft.state, DraftEvent.EDIT)
            await self.roles.require_author_or_approver(session, actor, draft, "edit")
            if _content(draft) != _content(before):  # changed meanwhile: recount, bounded
                variants = {t.id: t.variant for t in draft.targets} | {chosen.id: text}
                findings = await self._findings(
                    draft.text, draft.media, self._checked(draft, variants), session=session
                )
            had_approvals = len(draft.approvals)
            resubmitted = draft.state is DraftState.REJECTED
            for target_row in await store.target_rows(draft_id):
                if target_row.id == chosen.id:
                    target_row.variant = text
                    target_row.updated_at = self.clock.now()
            await self._revise(session, row, draft, actor, new_state, findings)
            await self._audit(
                session,
                actor,
                "variant_set" if text is not None else "variant_cleared",
                draft,
                target=chosen.key,
                variant=text,
                revision=row.revision,
                approvals_cleared=had_approvals,
                findings=[f.code for f in findings],
                **({"resubmitted": True} if resubmitted else {}),
            )
            draft, cards = await self._settled(store, draft_id)
        after = _after_edit(had_approvals, resubmitted)
        if text is None:
            message = f"{actor.name} removed {chosen.key}'s own text from draft {draft_id}.{after}"
        else:
            message = f"{actor.name} gave {chosen.key} its own text on draft {draft_id}.{after}"
        return await self._announce(draft, cards, message)

    async def resolve_mention(self, reference: str) -> StoredMention:
        """A mention by id or link: from storage, else asked of the network and stored.

        The network is asked outside any transaction: its latency, retries and rate-limit
        waits must not hold the database (on SQLite, the one write lock every poller,
        approval and delivery needs)."""
        reference = reference.strip().strip("<>")
        networks = self.networks.networks()
        async with self.db.transaction() as session:
            for network in networks:
                found = await MentionStore(session).find(network, reference)
                if found is not None:
                    return found
        mention = None
        for network in networks:
            port = self.networks.network_port(network)
            mention = None if port is None else await port.lookup_mention(reference)
            if mention is not None:
                break
        if mention is None:
            where = " or ".join(self.networks.label(n) for n in networks) or "any network"
            raise NotFound(
                f"I could not find a mention {reference!r} on {where}.",
                hint="Use the id or link shown on an alert card, e.g. `/reply sbx-0012 Thanks!`.",
            )
        async with self.db.transaction() as session:
            store = MentionStore(session)
            stored = await store.insert_new([mention], now=self.clock.now())
            # Stored meanwhile by a poller or another reply: the stored one is the mention.
            found = stored[0] if stored else await store.find(mention.network, mention.external_id)
        if found is None:
            raise NotFound(f"The mention {reference!r} could not be stored; try again.")
        return found

    async def _targets(self, channel: ChannelRef, new: NewDraft) -> tuple[Account, ...]:
        """Where the draft goes: a reply from the account the mention was addressed to;
        a post where `--to` says, else where the channel's defaults say, else to the
        default account."""
        if new.reply_to is not None:
            return (self._replying_account(new.reply_to),)
        if new.targets is not None:
            return self.networks.resolve(new.targets)
        async with self.db.transaction() as session:
            defaults = await ChannelTargets(session).get(channel)
        if defaults:
            try:
                return self.networks.resolve(defaults)
            except InvalidInput as error:
                raise InvalidInput(
                    f"This channel's default targets ({defaults}) no longer match an "
                    f"account: {error.message}",
                    hint="Name the targets with `--to`, or reset them with "
                    "`/social targets set TARGETS`.",
                ) from None
        return (self.networks.default_account(),)

    def _replying_account(self, mention: StoredMention) -> Account:
        """The account the mention was addressed to, on its network; a mention that names
        none (a search result) is answered from that network's default account."""
        found = mention.mention
        if found.account:
            account = self.networks.account(found.network, found.account)
            if account is not None:
                return account
        same_network = [a for a in self.networks.accounts() if a.network == found.network]
        if not same_network:
            label = self.networks.label(found.network)
            raise InvalidInput(
                f"I cannot reply on {label}: no account there is connected.",
                hint="An admin can see the accounts with `/social accounts`.",
            )
        return next((a for a in same_network if a.default), same_network[0])

    def _target_named(self, draft: Draft, name: str) -> DraftTarget:
        """One of the draft's targets, by `x:@handle`, `@handle` or network, if that
        names exactly one of them."""
        wanted = name.strip().lower()
        handle = wanted.rpartition(":")[2]
        matches = [
            t
            for t in draft.targets
            if wanted in (t.key.lower(), t.network.lower(), self.networks.kind(t.network))
            or (":" not in wanted and handle.startswith("@") and t.account.lower() == handle[1:])
        ]
        keys = ", ".join(t.key for t in draft.targets)
        if len(matches) != 1:
            problem = "is not one of its targets" if not matches else "names several of them"
            raise InvalidInput(
                f"{name} {problem}; draft {draft.id} publishes to {keys}.",
                hint=f"Name one target as shown, e.g. `{draft.targets[0].key}`.",
            )
        return matches[0]

    def _checked(
        self, draft: Draft, variants: dict[int, str | None] | None = None
    ) -> list[tuple[str, str, str | None]]:
        """(key, rules kind, own text) of each target, for `_findings`."""
        return [
            (
                t.key,
                self.networks.kind(t.network),
                t.variant if variants is None else variants.get(t.id),
            )
            for t in draft.targets
        ]

    async def _enqueue(
        self, session: AsyncSession, draft: Draft, revision: int, *, due_at: datetime
    ) -> None:
        """One outbox row per target not yet published."""
        for target in draft.targets:
            if target.state is not TargetState.PUBLISHED:
                await OutboxStore(session).enqueue(
                    draft.id, target.id, revision, due_at=due_at, now=self.clock.now()
                )

    async def _locked(
        self, session: AsyncSession, draft_id: int, actor: Actor
    ) -> tuple[DraftStore, DraftRow, Draft]:
        """The draft row, locked, for an action by `actor`; a draft of another workspace
        is refused exactly like a missing one."""
        store = DraftStore(session)
        row = await store.row(draft_id, for_update=True)
        if row is None or not same_workspace(actor, row.origin_workspace):
            raise no_such_draft(draft_id)
        bind_draft(draft_id)
        return store, row, await store.get(draft_id)

    async def _settled(self, store: DraftStore, draft_id: int) -> tuple[Draft, list[MessageRef]]:
        """The draft as committed and where its cards are, to announce after the commit."""
        return await store.get(draft_id), await store.cards(draft_id)

    async def _announce(self, draft: Draft, cards: list[MessageRef], message: str) -> Outcome:
        await self.notifier.draft_changed(draft, cards, message)
        return Outcome(draft, message)

    async def _findings(
        self,
        text: str,
        media: Sequence[MediaItem],
        targets: Sequence[tuple[str, str, str | None]],
        session: AsyncSession | None = None,
    ) -> tuple[Finding, ...]:
        """Each target's findings under its network's rules (length, images) and the
        agency's (its sensitive terms, its link allow list, its phone regions), on the
        target's own text. A finding every target shares is shown once, for all of them;
        the others name their target.

        The check is CPU work of up to tens of milliseconds per target, so it runs
        outside the draft's transaction (which would hold the draft's row lock, and on
        SQLite the whole database, meanwhile): the terms are read in a short transaction
        of their own, unless the caller already holds one."""
        per_target: list[tuple[str, tuple[Finding, ...]]] = []
        checked: dict[tuple[str, str], tuple[Finding, ...]] = {}
        for key, kind, variant in targets:
            own = text if variant is None else variant
            if (own, kind) not in checked:
                result = await self.policy.check(own, kind, session=session)
                checked[(own, kind)] = (*media_findings(media, kind), *result.findings)
            per_target.append((key, checked[(own, kind)]))
        return _per_target(per_target)

    async def _revise(
        self,
        session: AsyncSession,
        row: DraftRow,
        draft: Draft,
        actor: Actor,
        state: DraftState,
        findings: tuple[Finding, ...],
    ) -> None:
        """A change of content (text, an image's description, a target's own text): a new
        revision, so approvals of the old one no longer count and what was queued for it
        is cancelled; `actor` becomes one of its authors; its findings are the new ones."""
        self._move(row, state)
        row.revision += 1
        row.authors = authors_with(draft, actor)
        row.findings = findings_to_json(findings)
        await OutboxStore(session).cancel(draft.id, now=self.clock.now())

    def _move(self, row: DraftRow, state: DraftState) -> None:
        row.state = state.value
        row.updated_at = self.clock.now()

    async def _audit(
        self, session: AsyncSession, actor: Actor, action: str, draft: Draft, **details: Any
    ) -> None:
        details.setdefault("text", draft.text)
        where = str(details.pop("where", "") or actor.channel)
        await AuditLog(session).record(
            at=self.clock.now(),
            actor=actor.user_id,
            platform=actor.platform,
            channel=where,
            action=action,
            draft_id=draft.id,
            workspace=draft.workspace,
            **details,
        )


def _described(media: Sequence[MediaItem], number: int, alt_text: str) -> tuple[MediaItem, ...]:
    """The images with image `number` (counted from 1) described; as they were if there is
    no such image (the caller refuses that)."""
    if not 1 <= number <= len(media):
        return tuple(media)
    described = list(media)
    described[number - 1] = MediaItem(media[number - 1].url, alt_text.strip())
    return tuple(described)


def _per_target(per_target: Sequence[tuple[str, tuple[Finding, ...]]]) -> tuple[Finding, ...]:
    """Findings every target shares, once (for all of them); the rest tagged with theirs."""
    if len(per_target) == 1:
        return per_target[0][1]
    shared = set(per_target[0][1])
    for _, findings in per_target[1:]:
        shared &= set(findings)
    result = [f for f in per_target[0][1] if f in shared]
    for key, findings in per_target:
        result += [replace(f, target=key) for f in findings if f not in shared]
    return tuple(result)


def _content(draft: Draft) -> tuple[object, ...]:
    return (draft.text, draft.media, tuple(t.variant for t in draft.targets))


def _finding_words(finding: Finding) -> str:
    return f"{finding.target}: {finding.message}" if finding.target else finding.message


def _blocking_hint(draft: Draft) -> str:
    keys = {f.target for f in draft.blocking_findings if f.target}
    if len(draft.targets) > 1 and keys:
        example = sorted(keys)[0]
        return (
            f"Fix it with `/social edit {draft.id} NEW TEXT`, or give {example} its own "
            f"text with `/social variant {draft.id} {example} TEXT`."
        )
    return f"Fix it with `/social edit {draft.id} NEW TEXT`."


def _failed_hint(draft: Draft) -> str:
    failed = ", ".join(t.key for t in draft.failed_targets)
    return f"Failed targets: {failed}." if failed else "No target of it has failed."


def _after_edit(had_approvals: int, resubmitted: bool) -> str:
    """What a change of content did besides: a rejected draft goes back for approval."""
    cleared = " Approvals were cleared." if had_approvals else ""
    if resubmitted:
        return f"{cleared} It is a new revision, waiting for approval again."
    return cleared


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
