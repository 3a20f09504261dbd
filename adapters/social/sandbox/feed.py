"""The demo feed: mentions of the fictional city of Port Alder, shipped with the project."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from adapters.social.sandbox.sites import NETWORK, post_url
from chatops.domain.types import Mention, MentionAuthor
from chatops.listening.pollers import addressed_account

CITY_ACCOUNTS = (
    "PortAlderCity",
    "PortAlderWater",
    "PortAlderOEM",
    "PortAlderTransit",
    "PortAlderLibrary",
)


def mention_from_json(data: dict[str, Any], *, network: str = NETWORK) -> Mention:
    """One feed line (the same shape `chatops backtest` files use) as a `Mention`, on the
    line's "network" (else `network`).

    Its optional "account" says which city account it is addressed to; without it, the
    first city account the text names with `@` (older files, hand-written lines)."""
    author = data["author"]
    text = str(data["text"])
    network = str(data.get("network") or network)
    return Mention(
        network=network,
        external_id=str(data["id"]),
        url=str(data.get("url") or post_url(author["handle"], str(data["id"]), network)),
        author=MentionAuthor(
            handle=str(author["handle"]),
            name=str(author.get("name", "")),
            followers=int(author.get("followers", 0)),
            verified=bool(author.get("verified", False)),
        ),
        text=text,
        created_at=datetime.fromisoformat(str(data["created_at"]).replace("Z", "+00:00")),
        language=str(data.get("lang", "")),
        kind=str(data.get("kind", "post")),
        refers_to=data.get("refers_to"),
        in_reply_to=data.get("refers_to") if data.get("kind") == "reply" else None,
        metrics={k: int(v) for k, v in dict(data.get("metrics") or {}).items()},
        account=str(data.get("account") or addressed_account(text, CITY_ACCOUNTS)).removeprefix(
            "@"
        ),
    )


def read_feed(lines: Iterable[str]) -> Iterator[Mention]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield mention_from_json(json.loads(line))
        except (KeyError, ValueError, TypeError) as error:
            raise ValueError(f"line {number}: not a mention ({error})") from error


def demo_mentions() -> list[Mention]:
    """Every line of the demo feed, on all three sandbox networks, in the file's order."""
    text = resources.files(__package__).joinpath("demo_feed.jsonl").read_text("utf-8")
    return list(read_feed(text.splitlines()))


def demo_feed(network: str = NETWORK) -> list[Mention]:
    """The demo feed of one sandbox network (the first, `sandbox`, unless told): what its
    demo poller replays."""
    return [mention for mention in demo_mentions() if mention.network == network]


def load_feed(path: Path) -> list[Mention]:
    with path.open(encoding="utf-8") as handle:
        return list(read_feed(handle))
