"""What each sandbox network refuses at publication, as its real network would.

Drafts over a limit are blocked before approval, so a refusal here means the card's checks
and the network disagree (a variant set meanwhile, a limit changed): the sandbox shows that
the way a real network does, with a publication that fails for good and says which limit.
Only the limits a real network enforces refuse a post (length as it counts it, number of
images); an image without alt text is the agency's rule, not the network's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from chatops.domain.errors import InvalidInput
from chatops.domain.types import Finding, MediaItem, Severity
from chatops.drafts.policy import check

Refusal = Callable[[str, Sequence[MediaItem]], str | None]
"""(text, images) -> why the network refuses the post, or None when it accepts it."""

REFUSING_CODES = frozenset({"too_long", "too_many_images"})
LINK_WEIGHT = 23
MAX_IMAGES = 4

_GRAPHEME = regex.compile(r"\X")
_LINK = regex.compile(r"https?://\S+", regex.IGNORECASE)
_REMOTE_MENTION = regex.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w", regex.UNICODE)


@dataclass(frozen=True)
class TextLimit:
    """A network that counts grapheme clusters (a flag or a family emoji is one)."""

    label: str
    max_chars: int
    links_count_23: bool
    """Mastodon counts every link as 23 and a mention `@user@server` as `@user`."""


KIND_LIMITS = {
    "mastodon": TextLimit("Mastodon", 500, links_count_23=True),
    "bluesky": TextLimit("Bluesky", 300, links_count_23=False),
}


def refuse_nothing(text: str, media: Sequence[MediaItem]) -> str | None:
    """A sandbox network that accepts any post (the default, for tests of other things)."""
    return None


def refusal_for(kind: str) -> Refusal:
    """The refusal of a real network of `kind` (x, mastodon, bluesky)."""

    def refusal(text: str, media: Sequence[MediaItem]) -> str | None:
        try:
            findings = limit_findings(text, media, kind)
        except InvalidInput as error:  # far too long to be a post anywhere
            return error.message
        refused = [
            f.message
            for f in findings
            if f.code in REFUSING_CODES and f.severity is Severity.BLOCKING
        ]
        return " ".join(refused) or None

    return refusal


def limit_findings(text: str, media: Sequence[MediaItem], kind: str) -> Sequence[Finding]:
    """The findings of the network kind's own rules for one post.

    The one place that knows how each kind counts: once chatops.drafts.policy has
    `network_findings(text, media, kind)`, this body becomes that one call."""
    if kind == "x":
        return check(text, "x", media).findings
    return _counted_findings(text, media, KIND_LIMITS[kind])


def _counted_findings(text: str, media: Sequence[MediaItem], limit: TextLimit) -> list[Finding]:
    findings = []
    if len(media) > MAX_IMAGES:
        findings.append(
            Finding(
                code="too_many_images",
                severity=Severity.BLOCKING,
                message=f"The post has {len(media)} images; {limit.label} allows {MAX_IMAGES}.",
                suggestion="Start a new draft with fewer images.",
            )
        )
    counted = _length(text, limit)
    if counted > limit.max_chars:
        over = counted - limit.max_chars
        links = " (links count as 23)" if limit.links_count_23 else ""
        findings.append(
            Finding(
                code="too_long",
                severity=Severity.BLOCKING,
                message=f"The text is {counted}/{limit.max_chars} characters as "
                f"{limit.label} counts them{links}, {over} over the limit.",
                suggestion=f"Shorten it by at least {over} characters.",
            )
        )
    return findings


def _length(text: str, limit: TextLimit) -> int:
    if not limit.links_count_23:
        return len(_GRAPHEME.findall(text))
    links = _LINK.findall(text)
    countable = _REMOTE_MENTION.sub(r"\1", _LINK.sub("", text))
    return len(_GRAPHEME.findall(countable)) + LINK_WEIGHT * len(links)
