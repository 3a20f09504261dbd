"""The agency's policy for a text: one entry point, so a draft's card and `chatops check`
cannot disagree about the same text.

The network's rules and the compliance rules live in `policy` and `compliance`. What makes
them the agency's comes from two places: the settings (the link allow list, the phone
regions, the public contacts) and the database (the sensitive terms admins keep with
`/social terms`, the public contacts they keep with `/social contacts`). Before,
the draft workflow combined the two itself and `chatops check` used neither, so the check
said "No findings" for text whose card warned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.drafts.compliance import DEFAULT_RULES, ComplianceRules, SensitiveTerm
from chatops.drafts.policy import PolicyResult, check, require_checkable
from chatops.drafts.public_contacts import Contact, PublicContacts
from chatops.runtime.settings import Settings
from chatops.storage.database import Database
from chatops.storage.lists import ListStore


def compliance_rules(settings: Settings) -> ComplianceRules:
    """The settings' part of the agency's rules; the sensitive terms and the contacts added
    in chat come from the database.

    Raises ValueError for a phone region phonenumbers does not know."""
    rules = ComplianceRules(
        allowed_domains=settings.link_allowlist, phone_regions=settings.phone_regions
    )
    contacts = PublicContacts.parse(settings.public_contacts, settings.phone_regions)
    return replace(rules, public_contacts=contacts)


def check_text(
    text: str,
    network: str,
    rules: ComplianceRules,
    terms: Sequence[SensitiveTerm],
    contacts: Sequence[Contact] = (),
    *,
    max_chars: int | None = None,
) -> PolicyResult:
    """The text's findings under `rules` with the agency's `terms` and with `contacts` as
    public as the settings' own, as posted on a network of kind `network` ("x",
    "mastodon", "bluesky"), whose text limit `max_chars` replaces when given.

    The old "sandbox" network stands in for X, so it is held to X's rules. Images are not
    looked at: a draft's caller adds their findings, which it knows."""
    network = "x" if network == "sandbox" else network
    agency = replace(rules, terms=tuple(terms), public_contacts=rules.public_contacts | contacts)
    return check(text, network, (), agency, max_chars=max_chars)


@dataclass(frozen=True)
class AgencyPolicy:
    """The settings' rules plus the sensitive terms and public contacts stored in `db`."""

    db: Database
    rules: ComplianceRules = DEFAULT_RULES

    async def check(
        self,
        text: str,
        network: str,
        *,
        session: AsyncSession | None = None,
        max_chars: int | None = None,
    ) -> PolicyResult:
        """The findings a draft card shows for `text` (its images aside) on a network of
        kind `network`, with `max_chars` as its text limit when given.

        The lists are read in a short transaction of their own unless the caller already
        holds one, and the check (CPU work) runs after it has ended, so the database is not
        held meanwhile. Text too long to be a post is refused (InvalidInput) before the
        database is read."""
        require_checkable(text)
        if session is None:
            async with self.db.transaction() as own:
                terms, contacts = await _lists(ListStore(own))
        else:
            terms, contacts = await _lists(ListStore(session))
        return check_text(text, network, self.rules, terms, contacts, max_chars=max_chars)


async def _lists(lists: ListStore) -> tuple[list[SensitiveTerm], list[Contact]]:
    return await lists.sensitive_terms(), await lists.public_contacts()
