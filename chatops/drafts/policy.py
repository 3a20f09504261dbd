"""Policy checks: the findings a draft card shows before anyone approves it.

Length is counted exactly as each network counts it (`network_rules`: twitter-text's
weighted length for X, where a URL counts 23 and most CJK characters and emoji count 2;
graphemes for Bluesky; Mastodon's count with links as 23), so a draft that passes here is
not refused at publication for its length. A draft going to several networks is checked
once per network kind with `network_findings`.

Every check runs on the event loop while people wait, so its cost is bounded: text over
`MAX_TEXT_CHARS` is refused before anything else looks at it, and the counting and the
compliance rules take time in proportion to the text's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatops.domain.errors import InvalidInput
from chatops.domain.types import Finding, MediaItem, Severity
from chatops.drafts.compliance import DEFAULT_RULES, ComplianceRules, compliance_findings
from chatops.drafts.network_rules import NetworkRules, rules_for
from chatops.drafts.text_length import Counted

NEAR_LIMIT_SHARE = 0.95
ALT_TEXT_CODES = frozenset({"image_without_alt", "alt_text_too_long"})
"""Findings fixed by describing an image (`/social alt`), not by editing the text."""
IMAGE_CODES = ALT_TEXT_CODES | {"too_many_images"}
MAX_TEXT_CHARS = 2_000
"""The longest text accepted for a draft or a check. It is far above every network's usual
limit (X counts 280, Bluesky 300, Mastodon 500 by default), so no publishable text is
refused, and it bounds what one draft can cost the server: checking 2,000 characters takes
tens of milliseconds, where twitter-text alone needed 40 seconds for a 6,000-character
draft."""
SANDBOX = "sandbox"
"""The old name of the sandbox network, held to X's rules; a sandbox network now declares
the kind whose rules it follows."""


def require_checkable(text: str) -> None:
    """Refuse text too long to be a post, before any work is spent on it."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"The text is {len(text):,} characters; drafts can be at most "
            f"{MAX_TEXT_CHARS:,} characters (X allows 280, Bluesky 300, Mastodon 500 "
            "unless the instance sets its own limit).",
            hint="Shorten it, or split it into several posts.",
        )


@dataclass(frozen=True)
class PolicyResult:
    network: str
    weighted_length: int
    limit: int
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """True when nothing blocks approval; warnings alone do not."""
        return not any(finding.severity is Severity.BLOCKING for finding in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCKING)


def check(
    text: str,
    network: str = "x",
    media: Sequence[MediaItem] = (),
    rules: ComplianceRules = DEFAULT_RULES,
    *,
    max_chars: int | None = None,
) -> PolicyResult:
    """Return the findings for `text` (and its images) as posted on a network of kind
    `network` ("x", "mastodon", "bluesky"; "sandbox" is X): the network's own rules, then
    the agency's compliance rules (personal data, sensitive terms, links outside the allow
    list, shouting, unreadable hashtags). `max_chars` replaces the network's usual text
    limit (a Mastodon instance's own).

    Raises InvalidInput for text over MAX_TEXT_CHARS (see `require_checkable`), ValueError
    for an unknown kind."""
    require_checkable(text)
    network_rules = rules_for(_kind(network), max_chars=max_chars)
    limit = network_rules.max_chars
    findings: list[Finding] = []
    findings += _media_findings(media, network_rules)
    if not text.strip():
        findings.append(
            Finding(
                code="empty",
                severity=Severity.BLOCKING,
                message="The text is empty.",
                suggestion="Write the text of the post after the command, e.g. `/post Hello`.",
            )
        )
        return PolicyResult(network, 0, limit, tuple(findings))
    findings += compliance_findings(text, rules)
    counted = network_rules.count(text)
    findings += _length_findings(text, counted, network_rules)
    return PolicyResult(network, counted.weighted, limit, tuple(findings))


def network_findings(
    text: str, media: Sequence[MediaItem], kind: str, *, max_chars: int | None = None
) -> tuple[Finding, ...]:
    """Only the findings of network kind `kind`'s own rules, for one target of a draft:
    its images (too_many_images, image_without_alt, alt_text_too_long), then its length
    (too_long, near_limit). Empty text and the compliance rules, the same for every
    target, are `check`'s.

    Raises InvalidInput for text over MAX_TEXT_CHARS, ValueError for an unknown kind."""
    require_checkable(text)
    network_rules = rules_for(_kind(kind), max_chars=max_chars)
    findings = _media_findings(media, network_rules)
    if text.strip():
        findings += _length_findings(text, network_rules.count(text), network_rules)
    return tuple(findings)


def media_findings(media: Sequence[MediaItem], kind: str = "x") -> list[Finding]:
    """The images' findings alone, under network kind `kind`'s limits; `check` lists them
    first."""
    return _media_findings(media, rules_for(_kind(kind)))


def _kind(network: str) -> str:
    return "x" if network == SANDBOX else network


def _length_findings(text: str, counted: Counted, rules: NetworkRules) -> list[Finding]:
    limit, label = rules.max_chars, rules.label
    weighted = counted.weighted
    if weighted > limit:
        over = weighted - limit
        return [
            Finding(
                code="too_long",
                severity=Severity.BLOCKING,
                message=f"The text is {weighted:,}/{limit:,} characters as {label} counts "
                f"them, {over:,} over the limit.",
                suggestion=f"Shorten it by at least {over:,} characters ({rules.length_hint}).",
                span=(counted.fits_until, len(text)),
            )
        ]
    size = len(text.encode("utf-8"))
    if rules.max_bytes is not None and size > rules.max_bytes:
        return [
            Finding(
                code="too_long",
                severity=Severity.BLOCKING,
                message=f"The text takes {size:,} bytes; {label} accepts {rules.max_bytes:,} "
                "(an emoji takes 4 bytes or more, a family of four 25).",
                suggestion="Use fewer emoji, or shorten the text.",
            )
        ]
    if weighted >= int(limit * NEAR_LIMIT_SHARE):
        return [
            Finding(
                code="near_limit",
                severity=Severity.WARNING,
                message=f"The text is {weighted:,}/{limit:,} characters as {label} counts "
                "them, close to the limit.",
                suggestion=rules.near_hint,
            )
        ]
    return []


def _media_findings(media: Sequence[MediaItem], rules: NetworkRules) -> list[Finding]:
    label = rules.label
    findings = []
    if len(media) > rules.max_images:
        findings.append(
            Finding(
                code="too_many_images",
                severity=Severity.BLOCKING,
                message=f"The post has {len(media)} images; {label} allows {rules.max_images}.",
                suggestion="Start a new draft with fewer images.",
            )
        )
    for number, item in enumerate(media, start=1):
        if not item.alt_text.strip():
            findings.append(
                Finding(
                    code="image_without_alt",
                    severity=Severity.BLOCKING,
                    message=f"Image {number} has no alt text, so people using screen readers "
                    f"on {label} would not know what it shows.",
                    suggestion=f"Describe it with `/social alt ID {number} DESCRIPTION`.",
                )
            )
            continue
        length = rules.count_alt_text(item.alt_text)
        if length > rules.max_alt_text:
            findings.append(
                Finding(
                    code="alt_text_too_long",
                    severity=Severity.BLOCKING,
                    message=f"Image {number}'s alt text is {length:,} characters; "
                    f"{label} accepts {rules.max_alt_text:,}.",
                    suggestion=f"Shorten the description by at least "
                    f"{length - rules.max_alt_text:,} characters, to the essentials.",
                )
            )
    return findings
