"""The agency's own public contacts: phone numbers, email addresses and domains that are
never personal data on a draft.

A hotline or a help-desk address is what an agency most needs to post, yet it looks exactly
like personal data to the compliance check. Admins list them once (CHATOPS_PUBLIC_CONTACTS,
`/social contacts add`), and the check compares what it finds with that list. Both sides are
normalised the same way, so `(503) 823-4000`, `503-823-4000` and `+1 503 823 4000` are one
number (phonenumbers' E.164 form, read in the agency's phone regions), and an address or a
domain matches whatever its case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

CONTACTS_EXAMPLE = "503-823-4000, info@portalder.gov, portalder.gov"

_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
_LOCAL_PART = re.compile(r"[\w.%+-]+")
_SITE = re.compile(r"https?://([^/\s@]+)/?", re.IGNORECASE)


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    DOMAIN = "domain"


@dataclass(frozen=True)
class Contact:
    """One public contact, normalised: an E.164 number, a lower-case address or domain."""

    kind: ContactKind
    value: str

    def shown(self) -> str:
        """As people read it: a number in international format, the rest as stored."""
        if self.kind is ContactKind.PHONE:
            number = phonenumbers.parse(self.value)
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return self.value


def parse_contact(value: str, regions: Sequence[str]) -> Contact:
    """Read a phone number, an email address or a domain (`@portalder.gov` is the domain too).

    A number without a +country code is read in each of `regions` in turn; the first region
    where it is a valid number wins. A site's address (`https://portalder.gov/`) is its
    domain: Slack sends a domain typed in a message as a link. Raises ValueError saying what
    was expected."""
    text = value.strip()
    if site := _SITE.fullmatch(text):
        text = site.group(1)
    local, at, domain = text.rpartition("@")
    if at and _DOMAIN.fullmatch(domain):
        if not local:
            return Contact(ContactKind.DOMAIN, _domain(domain))
        if _LOCAL_PART.fullmatch(local):
            return Contact(ContactKind.EMAIL, f"{local.lower()}@{_domain(domain)}")
    elif not at and _DOMAIN.fullmatch(text.rstrip(".")):
        return Contact(ContactKind.DOMAIN, _domain(text))
    elif not at and (number := _phone(text, regions)) is not None:
        return Contact(ContactKind.PHONE, number)
    where = f"valid in {', '.join(regions)}" if regions else "with its +country code"
    raise ValueError(f"{text!r} is not a phone number ({where}), an email address or a domain")


def _domain(domain: str) -> str:
    return domain.rstrip(".").lower()


def _phone(text: str, regions: Sequence[str]) -> str | None:
    if not re.search(r"\d", text):
        return None
    for region in [*regions, None] if text.startswith("+") else regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return e164(number)
    return None


def e164(number: phonenumbers.PhoneNumber) -> str:
    """The one form numbers are compared in (an extension is still the same line)."""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class PublicContacts:
    """The contacts that are never personal data; a domain covers its subdomains too."""

    contacts: frozenset[Contact] = frozenset()

    @classmethod
    def parse(cls, values: Iterable[str], regions: Sequence[str]) -> PublicContacts:
        return cls(frozenset(parse_contact(value, regions) for value in values))

    def __or__(self, other: Iterable[Contact]) -> PublicContacts:
        return PublicContacts(self.contacts | frozenset(other))

    def __bool__(self) -> bool:
        return bool(self.contacts)

    def covers_phone(self, number: phonenumbers.PhoneNumber) -> bool:
        return Contact(ContactKind.PHONE, e164(number)) in self.contacts

    def covers_email(self, address: str) -> bool:
        address = address.lower()
        if Contact(ContactKind.EMAIL, address) in self.contacts:
            return True
        host = address.rpartition("@")[2]
        return any(
            contact.kind is ContactKind.DOMAIN
            and (host == contact.value or host.endswith("." + contact.value))
            for contact in self.contacts
        )
