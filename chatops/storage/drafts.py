"""Drafts, their approvals, their cards and the accounts they post from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.domain.accounts import DraftTarget, TargetState
from chatops.domain.types import (
    Actor,
    Approval,
    Author,
    ChannelRef,
    Draft,
    DraftKind,
    DraftState,
    Finding,
    MediaItem,
    MessageRef,
    Severity,
    Via,
)
from chatops.storage.tables import (
    AccountRow,
    ApprovalRow,
    CardReactionRow,
    CardRow,
    DraftRow,
    DraftTargetRow,
)

OPEN_STATES = (DraftState.PENDING, DraftState.APPROVED, DraftState.PUBLISHING, DraftState.FAILED)


class DraftStore:
    """Reads and writes drafts inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account(self, network: str, handle: str, *, now: datetime) -> AccountRow:
        found = await self.session.scalar(
            select(AccountRow).where(AccountRow.network == network, AccountRow.handle == handle)
        )
        if found is not None:
            return found
        row = AccountRow(network=network, handle=handle, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row

    async def create(self, row: DraftRow, targets: Sequence[AccountRow] = ()) -> Draft:
        """Store a draft and its targets, in the order given (its own account if none)."""
        self.session.add(row)
        await self.session.flush()
        accounts = list(targets) or [await self.session.get_one(AccountRow, row.account_id)]
        for position, account in enumerate(accounts):
            self.session.add(
                DraftTargetRow(
                    draft_id=row.id,
                    account_id=account.id,
                    position=position,
                    state=TargetState.WAITING.value,
                    updated_at=row.created_at,
                )
            )
        await self.session.flush()
        return await self.get(row.id)

    async def target_rows(self, draft_id: int) -> list[DraftTargetRow]:
        """The draft's targets in order; the caller holds the draft's row lock."""
        rows = await self.session.scalars(
            select(DraftTargetRow)
            .where(DraftTargetRow.draft_id == draft_id)
            .order_by(DraftTargetRow.position)
        )
        return list(rows)

    async def target_row(self, target_id: int) -> DraftTargetRow | None:
        return await self.session.get(DraftTargetRow, target_id)

    async def row(self, draft_id: int, *, for_update: bool = False) -> DraftRow | None:
        query = select(DraftRow).where(DraftRow.id == draft_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def get(self, draft_id: int) -> Draft:
        row = await self.row(draft_id)
        if row is None:
            raise LookupError(draft_id)
        return (await self._to_domain([row]))[0]

    async def many(
        self, states: Sequence[DraftState], *, limit: int = 50, workspace: str | None = None
    ) -> list[Draft]:
        """Drafts in these states, of one workspace (None: of every workspace)."""
        query = select(DraftRow).where(DraftRow.state.in_([state.value for state in states]))
        if workspace is not None:
            query = query.where(DraftRow.origin_workspace == workspace)
        rows = await self.session.scalars(query.order_by(DraftRow.id).limit(limit))
        return await self._to_domain(list(rows))

    async def awaiting_approval_by(
        self, user_id: str, workspace: str, *, limit: int = 20
    ) -> list[Draft]:
        """Pending drafts of the workspace this person wrote no part of and has not yet approved."""
        pending = await self.many([DraftState.PENDING], limit=limit * 5, workspace=workspace)
        return [
            draft
            for draft in pending
            if all(a.user_id != user_id for a in draft.authors) and user_id not in draft.approvers
        ][:limit]

    async def add_approval(
        self, row: DraftRow, *, approver: str, platform: str, via: Via, now: datetime
    ) -> bool:
        """Record an approval of the current revision; False if this person already approved."""
        existing = await self.session.scalar(
            select(ApprovalRow.id).where(
                ApprovalRow.draft_id == row.id,
                ApprovalRow.revision == row.revision,
                ApprovalRow.approver == approver,
            )
        )
        if existing is not None:
            return False
        self.session.add(
            ApprovalRow(
                draft_id=row.id,
                revision=row.revision,
                approver=approver,
                platform=platform,
                via=via.value,
                created_at=now,
            )
        )
        await self.session.flush()
        return True

    async def remove_approval(self, row: DraftRow, *, approver: str) -> bool:
        result = await self.session.execute(
            delete(ApprovalRow).where(
                ApprovalRow.draft_id == row.id,
                ApprovalRow.revision == row.revision,
                ApprovalRow.approver == approver,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def approval_count(self, row: DraftRow) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(ApprovalRow)
            .where(ApprovalRow.draft_id == row.id, ApprovalRow.revision == row.revision)
        )
        return int(count or 0)

    async def add_card(
        self, draft_id: int, ref: MessageRef, *, revision: int, now: datetime
    ) -> None:
        """Remember a posted card and the draft revision it displays."""
        self.session.add(
            CardRow(
                draft_id=draft_id,
                platform=ref.channel.platform,
                workspace_id=ref.channel.workspace_id,
                channel_id=ref.channel.channel_id,
                message_id=ref.message_id,
                revision=revision,
                created_at=now,
            )
        )
        await self.session.flush()

    async def card_shows(self, ref: MessageRef, revision: int) -> None:
        """The card message at `ref` was updated and now displays `revision`."""
        await self.session.execute(update(CardRow).where(*_card_is(ref)).values(revision=revision))

    async def shown_on(self, ref: MessageRef) -> tuple[int, int] | None:
        """(draft id, revision displayed) of the card message at `ref`, if it is a card."""
        found = (
            await self.session.execute(
                select(CardRow.draft_id, CardRow.revision).where(*_card_is(ref))
            )
        ).first()
        return None if found is None else (int(found[0]), int(found[1]))

    async def set_reaction(
        self, ref: MessageRef, user_id: str, reaction: str, *, present: bool, now: datetime
    ) -> None:
        """Record that `user_id` has (or no longer has) `reaction` on the card at `ref`."""
        card_id = await self.session.scalar(select(CardRow.id).where(*_card_is(ref)))
        if card_id is None:
            return
        mine = (
            CardReactionRow.card_id == card_id,
            CardReactionRow.user_id == user_id,
            CardReactionRow.reaction == reaction,
        )
        if not present:
            await self.session.execute(delete(CardReactionRow).where(*mine))
        elif await self.session.scalar(select(CardReactionRow.id).where(*mine)) is None:
            self.session.add(
                CardReactionRow(card_id=card_id, user_id=user_id, reaction=reaction, created_at=now)
            )
            await self.session.flush()

    async def reactions_on(self, ref: MessageRef, user_id: str) -> list[str]:
        """The reactions `user_id` has on the card at `ref`, as recorded."""
        names = await self.session.scalars(
            select(CardReactionRow.reaction)
            .join(CardRow, CardRow.id == CardReactionRow.card_id)
            .where(*_card_is(ref), CardReactionRow.user_id == user_id)
            .order_by(CardReactionRow.id)
        )
        return list(names)

    async def cards(self, draft_id: int) -> list[MessageRef]:
        rows = await self.session.scalars(
            select(CardRow).where(CardRow.draft_id == draft_id).order_by(CardRow.id)
        )
        return [
            MessageRef(ChannelRef(r.platform, r.channel_id, r.workspace_id), r.message_id)
            for r in rows
        ]

    async def _to_domain(self, rows: list[DraftRow]) -> list[Draft]:
        if not rows:
            return []
        accounts = {
            a.id: a
            for a in await self.session.scalars(
                select(AccountRow).where(AccountRow.id.in_({r.account_id for r in rows}))
            )
        }
        targets: dict[int, list[tuple[DraftTargetRow, AccountRow]]] = {r.id: [] for r in rows}
        for target, account in await self.session.execute(
            select(DraftTargetRow, AccountRow)
            .join(AccountRow, AccountRow.id == DraftTargetRow.account_id)
            .where(DraftTargetRow.draft_id.in_([r.id for r in rows]))
            .order_by(DraftTargetRow.draft_id, DraftTargetRow.position)
        ):
            targets[target.draft_id].append((target, account))
        approvals: dict[int, list[Approval]] = {r.id: [] for r in rows}
        revisions = {r.id: r.revision for r in rows}
        for approval in await self.session.scalars(
            select(ApprovalRow)
            .where(ApprovalRow.draft_id.in_(list(revisions)))
            .order_by(ApprovalRow.id)
        ):
            if approval.revision == revisions[approval.draft_id]:
                approvals[approval.draft_id].append(
                    Approval(
                        approver=approval.approver,
                        platform=approval.platform,
                        via=Via(approval.via),
                        at=approval.created_at,
                    )
                )
        return [
            _draft(row, accounts[row.account_id], approvals[row.id], targets[row.id])
            for row in rows
        ]


def _card_is(ref: MessageRef) -> tuple[ColumnElement[bool], ...]:
    return (
        CardRow.platform == ref.channel.platform,
        CardRow.workspace_id == ref.channel.workspace_id,
        CardRow.channel_id == ref.channel.channel_id,
        CardRow.message_id == ref.message_id,
    )


def author_json(author: Actor | Author) -> dict[str, str]:
    """How `drafts.authors` stores one author."""
    name = author.name
    return {"platform": author.platform, "user_id": author.user_id, "name": name}


def authors_with(draft: Draft, actor: Actor) -> list[dict[str, str]]:
    """The draft's authors as stored, with `actor` added at the end unless already there."""
    authors = [author_json(a) for a in draft.authors]
    if not draft.written_by(actor):
        authors.append(author_json(actor))
    return authors


def authors_from_json(row: DraftRow) -> tuple[Author, ...]:
    data = row.authors or [{"platform": row.author_platform, "user_id": row.author}]
    return tuple(
        Author(str(a["platform"]), str(a["user_id"]), str(a.get("name") or "")) for a in data
    )


def findings_to_json(findings: Sequence[Finding]) -> list[dict[str, object]]:
    return [
        {**asdict(f), "severity": f.severity.value, "span": list(f.span) if f.span else None}
        for f in findings
    ]


def findings_from_json(data: Sequence[dict[str, object]]) -> tuple[Finding, ...]:
    result = []
    for item in data:
        span = item.get("span")
        result.append(
            Finding(
                code=str(item["code"]),
                severity=Severity(str(item["severity"])),
                message=str(item["message"]),
                suggestion=str(item.get("suggestion") or ""),
                span=(int(span[0]), int(span[1])) if isinstance(span, list) else None,
                override=str(item.get("override") or ""),
                target=str(item.get("target") or ""),
            )
        )
    return tuple(result)


def media_to_json(media: Sequence[MediaItem]) -> list[dict[str, str]]:
    return [{"url": item.url, "alt_text": item.alt_text} for item in media]


def media_from_json(data: Sequence[dict[str, object]]) -> tuple[MediaItem, ...]:
    return tuple(MediaItem(str(i["url"]), str(i.get("alt_text") or "")) for i in data)


def _target(row: DraftTargetRow, account: AccountRow) -> DraftTarget:
    return DraftTarget(
        id=row.id,
        network=account.network,
        account=account.handle,
        position=row.position,
        state=TargetState(row.state),
        variant=row.variant,
        published_id=row.published_external_id,
        published_url=row.published_url,
        published_at=row.published_at,
        error=row.error,
    )


def _draft(
    row: DraftRow,
    account: AccountRow,
    approvals: list[Approval],
    targets: list[tuple[DraftTargetRow, AccountRow]],
) -> Draft:
    return Draft(
        targets=tuple(_target(t, a) for t, a in targets),
        id=row.id,
        kind=DraftKind(row.kind),
        state=DraftState(row.state),
        network=account.network,
        account=account.handle,
        text=row.text,
        author=row.author,
        author_platform=row.author_platform,
        created_at=row.created_at,
        revision=row.revision,
        required_approvals=row.required_approvals,
        scheduled_at=row.scheduled_at,
        reply_to_id=row.reply_to_external_id,
        reply_to_url=row.reply_to_url,
        published_id=row.published_external_id,
        published_url=row.published_url,
        published_at=row.published_at,
        error=row.error,
        findings=findings_from_json(row.findings),
        approvals=tuple(approvals),
        media=media_from_json(row.media or []),
        workspace=row.origin_workspace,
        channel=row.origin_channel,
        authors=authors_from_json(row),
    )
