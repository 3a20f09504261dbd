"""`/social contacts`: the agency's public phone numbers, addresses and domains, which drafts
never count as personal data."""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from chatops.drafts.public_contacts import Contact, ContactKind
from commands.parsing import take_word
from commands.registry import CommandContext, Verb

CONTACTS_EXAMPLE = "/social contacts add 503-823-4000"
_KINDS = {
    ContactKind.PHONE: "phone",
    ContactKind.EMAIL: "email",
    ContactKind.DOMAIN: "domain: every address at it and its subdomains",
}


async def contacts(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    action, rest = take_word(args)
    curation = ctx.core.curation
    if not action or action == "list":
        return [await _listed(ctx)]
    if action not in ("add", "remove"):
        raise InvalidInput(
            f"I don't know `/social contacts {action}`.", hint=f"Example: `{CONTACTS_EXAMPLE}`"
        )
    value = rest.strip().strip("\"'")
    if not value:
        raise InvalidInput(
            f"`/social contacts {action}` needs a phone number, an email address or a domain.",
            hint=f"Example: `{CONTACTS_EXAMPLE}`",
        )
    try:
        contact = curation.contact(value)
    except ValueError as error:
        raise InvalidInput(
            f"{str(error)[:1].upper()}{str(error)[1:]}.",
            hint=f"Examples: `{CONTACTS_EXAMPLE}`, `/social contacts add info@portalder.gov`, "
            "`/social contacts add portalder.gov`",
        ) from None
    shown = contact.shown()
    if action == "add":
        if await curation.add_contact(invocation.actor, contact):
            return [
                Reply(
                    f"{shown} is now a public contact: drafts may use it. A waiting draft "
                    "is checked again when it is edited.",
                    ephemeral=False,
                )
            ]
        return [Reply(f"{shown} is already a public contact.")]
    if await curation.remove_contact(invocation.actor, contact):
        return [Reply(f"{shown} is no longer a public contact: drafts with it are blocked again.")]
    if contact in curation.configured_contacts():
        return [Reply(f"{shown} is set in CHATOPS_PUBLIC_CONTACTS; remove it there.")]
    return [Reply(f"{shown} was not a public contact.")]


async def _listed(ctx: CommandContext) -> Reply:
    curation = ctx.core.curation
    configured = curation.configured_contacts()
    lines = [_line(c, ", set in CHATOPS_PUBLIC_CONTACTS") for c in configured]
    lines += [_line(c) for c in await curation.added_contacts() if c not in configured]
    if not lines:
        return Reply(
            "No public contacts yet: every phone number and email address on a draft blocks it.",
            lines=(f"An admin can add the agency's own: `{CONTACTS_EXAMPLE}`",),
        )
    title = "The agency's public contacts (never personal data on drafts):"
    return Reply(title, lines=tuple(lines))


def _line(contact: Contact, where: str = "") -> str:
    return f"{contact.shown()} ({_KINDS[contact.kind]}{where})"


VERBS = [
    Verb(
        "social",
        "contacts",
        "/social contacts [add|remove PHONE-EMAIL-OR-DOMAIN]",
        "The agency's own public phone numbers, addresses and domains, which drafts may "
        "use (admins).",
        CONTACTS_EXAMPLE,
        contacts,
    ),
]
