"""What each sandbox network refuses at publication, as its real network would.

Drafts over a limit are blocked before approval, so a refusal here means the card's checks
and the network disagree (a variant set meanwhile, a limit changed): the sandbox shows that
the way a real network does, with a publication that fails for good and says which limit.
Only the limits a real network enforces refuse a post (length as it counts it, number of
images); an image without alt text is the agency's rule, not the network's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatops.domain.errors import InvalidInput
from chatops.domain.types import Finding, MediaItem, Severity
from chatops.drafts.policy import network_findings

Refusal = Callable[[str, Sequence[MediaItem]], str | None]
"""(text, images) -> why the network refuses the post, or None when it accepts it."""

REFUSING_CODES = frozenset({"too_long", "too_many_images"})


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
    """The findings of the network kind's own rules for one post: the policy's, so the
    sandbox refuses exactly what the cards warned of."""
    return network_findings(text, media, kind)
