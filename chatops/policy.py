"""Policy checks: the findings a draft card shows before anyone approves it.

Length is counted exactly as the network counts it (twitter-text's weighted length for X,
where a URL counts 23 and most CJK characters and emoji count 2), so a draft that
passes here is not refused at publication for its length.
"""

from __future__ import annotations

from dataclasses import dataclass

from twitter_text import parse_tweet

from chatops.domain.types import Finding, Severity

NETWORK_LIMITS = {"x": 280, "sandbox": 280}
NEAR_LIMIT_SHARE = 0.95


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


def check(text: str, network: str = "x") -> PolicyResult:
    """Return the findings for `text` as it would be posted on `network`."""
    if network not in NETWORK_LIMITS:
        known = ", ".join(sorted(NETWORK_LIMITS))
        raise ValueError(f"unknown network {network!r}; known networks: {known}")
    limit = NETWORK_LIMITS[network]
    findings: list[Finding] = []
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
    parsed = parse_tweet(text)
    weighted = int(parsed.weightedLength)
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
                span=(int(parsed.validRangeEnd) + 1, len(text)),
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


def _label(network: str) -> str:
    return "X" if network == "x" else network
