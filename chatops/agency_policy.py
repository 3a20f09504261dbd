"""The agency's policy for a text: one entry point, so a draft's card and `chatops check`
cannot disagree about the same text.

The network's rules and the compliance rules live in `policy` and `compliance`. What makes
them the agency's comes from two places: the settings (the link allow list, the phone
regions) and the database (the sensitive terms admins keep with `/social terms`). Before,
the draft workflow combined the two itself and `chatops check` used neither, so the check
said "No findings" for text whose card warned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.compliance import DEFAULT_RULES, ComplianceRules, SensitiveTerm
from chatops.policy import PolicyResult, check, require_checkable
from chatops.settings import Settings
from chatops.storage.database import Database
from chatops.storage.lists import ListStore


def compliance_rules(settings: Settings) -> ComplianceRules:
    """The settings' part of the agency's rules; the sensitive terms come from the database."""
    return ComplianceRules(
        allowed_domains=settings.link_allowlist, phone_regions=settings.phone_regions
    )


def check_text(
    text: str, network: str, rules: ComplianceRules, terms: Sequence[SensitiveTerm]
) -> PolicyResult:
    """The text's findings under `rules` with the agency's `terms`, as posted on `network`.

    The sandbox stands in for X, so it is held to X's rules. Images are not looked at:
    a draft's caller adds their findings, which it knows."""
    network = "x" if network == "sandbox" else network
    return check(text, network, (), replace(rules, terms=tuple(terms)))


@dataclass(frozen=True)
class AgencyPolicy:
    """The settings' rules plus the sensitive terms stored in `db`."""

    db: Database
    rules: ComplianceRules = DEFAULT_RULES

    async def terms(self, session: AsyncSession | None = None) -> tuple[SensitiveTerm, ...]:
        """The agency's sensitive terms, read in a short transaction of their own unless the
        caller already holds one."""
        if session is not None:
            return tuple(await ListStore(session).sensitive_terms())
        async with self.db.transaction() as own:
            return tuple(await ListStore(own).sensitive_terms())

    async def check(
        self, text: str, network: str, *, session: AsyncSession | None = None
    ) -> PolicyResult:
        """The findings a draft card shows for `text` (its images aside).

        Text too long to be a post is refused (InvalidInput) before the database is read."""
        require_checkable(text)
        return check_text(text, network, self.rules, await self.terms(session))
