"""The three sandbox networks: what each is called, whose rules it follows, how its links look.

Each stands in for one kind of real network (X, Mastodon, Bluesky), so a cross-post in
`make run` goes to three places that look and refuse like the real ones. Every link is on
`.invalid`, a domain that can never resolve, so no sandbox link is mistaken for a live post.
"""

from __future__ import annotations

from dataclasses import dataclass

NETWORK = "sandbox"


@dataclass(frozen=True)
class SandboxSite:
    """One sandbox network: `network` is its configured name, `kind` whose rules it follows.

    `post_prefix` starts the ids of the posts the agency publishes there, `mention_prefix`
    those of the demo feed's mentions; `link` is a post's address, with `{handle}` and
    `{post_id}` in it."""

    network: str
    kind: str
    label: str
    post_prefix: str
    mention_prefix: str
    link: str

    def post_url(self, handle: str, post_id: str) -> str:
        return self.link.format(handle=handle, post_id=post_id)


SANDBOX_X = SandboxSite(
    network=NETWORK,
    kind="x",
    label="Sandbox",
    post_prefix="sbp",
    mention_prefix="sbx",
    link="https://sandbox.invalid/{handle}/status/{post_id}",
)
SANDBOX_MASTODON = SandboxSite(
    network="sandbox-mastodon",
    kind="mastodon",
    label="Sandbox Mastodon",
    post_prefix="sbmp",
    mention_prefix="sbm",
    link="https://mastodon.sandbox.invalid/@{handle}/{post_id}",
)
SANDBOX_BLUESKY = SandboxSite(
    network="sandbox-bluesky",
    kind="bluesky",
    label="Sandbox Bluesky",
    post_prefix="sbbp",
    mention_prefix="sbb",
    link="https://bsky.sandbox.invalid/profile/{handle}/post/{post_id}",
)
SITES = (SANDBOX_X, SANDBOX_MASTODON, SANDBOX_BLUESKY)
"""In the order the console lists them; the first is the default account's network."""


def site(network: str) -> SandboxSite:
    """The sandbox network of this name; the first one for a name it does not know (a
    backtest file's lines may name any network, and their links only need to be stable)."""
    return next((s for s in SITES if s.network == network), SANDBOX_X)


def post_url(handle: str, post_id: str, network: str = NETWORK) -> str:
    """A stable local link to a post on the sandbox network `network`."""
    return site(network).post_url(handle, post_id)


def kind_of(network: str) -> str:
    """Whose rules a network of a backtest file follows: a sandbox network's kind, else the
    network's own name (`x`, `mastodon` and `bluesky` are their own kinds)."""
    found = next((s for s in SITES if s.network == network), None)
    return network if found is None else found.kind
