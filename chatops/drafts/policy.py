"""Policy checks: the findings a draft card shows before anyone approves it.

Length is counted exactly as the network counts it (twitter-text's weighted length for X,
where a URL counts 23 and most CJK characters and emoji count 2), so a draft that
passes here is not refused at publication for its length.

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
from chatops.drafts.text_length import count

NETWORK_LIMITS = {"x": 280, "sandbox": 280, "mastodon": 500, "bluesky": 300}
"""Mastodon and Bluesky are counted as X counts for now (a stopgap so their drafts can be
checked at all); the per-network policy replaces this with each network's own counting."""
NEAR_LIMIT_SHARE = 0.95
MAX_IMAGES = 4
MAX_ALT_TEXT = 1000
ALT_TEXT_CODES = frozenset({"image_without_alt", "alt_text_too_long"})
"""Findings fixed by describing an image (`/social alt`), not by editing the text."""
IMAGE_CODES = ALT_TEXT_CODES | {"too_many_images"}
MAX_TEXT_CHARS = 2_000
"""The longest text accepted for a draft or a check. It is far above every network's limit
(X counts 280, Bluesky 300, Mastodon 500 by default), so no publishable text is refused,
and it bounds what one draft can cost the server: checking 2,000 characters takes tens of
milliseconds, where twitter-text alone needed 40 seconds for a 6,000-character draft."""


def require_checkable(text: str) -> None:
    """Refuse text too long to be a post, before any work is spent on it."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"The text is {len(text):,} characters; drafts can be at most "
            f"{MAX_TEXT_CHARS:,} characters (X allows 280).",
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
) -> PolicyResult:
    """Return the findings for `text` (and its images) as posted on `network`: the
    network's own rules, then the agency's compliance rules (personal data, sensitive
    terms, links outside the allow list, shouting, unreadable hashtags).

    Raises InvalidInput for text over MAX_TEXT_CHARS (see `require_checkable`)."""
    require_checkable(text)
    if network not in NETWORK_LIMITS:
        known = ", ".join(sorted(NETWORK_LIMITS))
        raise ValueError(f"unknown network {network!r}; known networks: {known}")
    limit = NETWORK_LIMITS[network]
    findings: list[Finding] = []
    findings += media_findings(media)
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
    counted = count(text, limit)
    weighted = counted.weighted
    if weighted > limit:
        over = weighted - limit
        findings.append(
            Finding(
                code="too_long",
                severity=Severity.BLOCKING,
                message=f"The text is {weighted}/{limit} characters as {_label(network)} counts "
                f"them, {over} over the limit.",
                suggestion=f"Shorten it by at least {over} characters (links count as 23, "
                "most emoji and CJK characters as 2).",
                span=(counted.fits_until, len(text)),
            )
        )
    elif weighted >= int(limit * NEAR_LIMIT_SHARE):
        findings.append(
            Finding(
                code="near_limit",
                severity=Severity.WARNING,
                message=f"The text is {weighted}/{limit} characters, close to the limit.",
                suggestion="An edit that adds a link or emoji may push it over.",
            )
        )
    return PolicyResult(network, weighted, limit, tuple(findings))


def media_findings(media: Sequence[MediaItem], kind: str = "x") -> list[Finding]:
    """The images' findings alone; `check` lists them first."""
    findings = []
    if len(media) > MAX_IMAGES:
        findings.append(
            Finding(
                code="too_many_images",
                severity=Severity.BLOCKING,
                message=f"The post has {len(media)} images; X allows {MAX_IMAGES}.",
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
                    "would not know what it shows.",
                    suggestion=f"Describe it with `/social alt ID {number} DESCRIPTION`.",
                )
            )
        elif len(item.alt_text) > MAX_ALT_TEXT:
            findings.append(
                Finding(
                    code="alt_text_too_long",
                    severity=Severity.BLOCKING,
                    message=f"Image {number}'s alt text is {len(item.alt_text)} characters; "
                    f"X accepts {MAX_ALT_TEXT}.",
                    suggestion="Shorten the description to the essentials.",
                )
            )
    return findings


def _label(network: str) -> str:
    return "X" if network == "x" else network
