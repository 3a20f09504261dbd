"""X API v2 JSON to the core's `Mention`: pure translation."""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from chatops.domain.types import Mention, MentionAuthor

NETWORK = "x"
WEB_ROOT = "https://x.com"
TWEET_FIELDS = (
    "created_at",
    "lang",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "public_metrics",
)
USER_FIELDS = ("name", "username", "public_metrics", "verified")
# in_reply_to_user_id brings the replied-to user into `includes.users`: a reply to one of
# the agency's accounts is addressed to it even when its text names nobody.
EXPANSIONS = ("author_id", "in_reply_to_user_id")
KINDS = {"replied_to": "reply", "quoted": "quote", "retweeted": "repost"}
_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"(?<![\w@])@(\w{1,15})")


def post_url(username: str, post_id: str) -> str:
    return f"{WEB_ROOT}/{username}/status/{post_id}"


def mentions_from(
    page: Mapping[str, Any], *, account: str = "", agency: Collection[str] = ()
) -> list[Mention]:
    """A page of tweets with `includes.users`, oldest first (X sends newest first).

    `account`: the page is that account's mentions timeline, so every tweet is addressed
    to it. Otherwise (a search) each tweet is addressed to the first of the `agency`
    handles it replies to or names, if any."""
    users = {u["id"]: u for u in (page.get("includes") or {}).get("users", [])}
    tweets = list(page.get("data") or [])
    return [
        mention_from(tweet, users, account=account or addressed_to(tweet, users, agency))
        for tweet in reversed(tweets)
    ]


def addressed_to(
    tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], agency: Collection[str]
) -> str:
    """The agency's account a tweet answers (its `in_reply_to_user_id`) or else the first
    it names with `@`, spelled as the agency spells it; "" for none."""
    spelled = {handle.lower(): handle for handle in agency}
    replied = users.get(str(tweet.get("in_reply_to_user_id", "")), {})
    candidates = [str(replied.get("username") or "")]
    candidates += _HANDLE.findall(html.unescape(str(tweet.get("text", ""))))
    return next((spelled[c.lower()] for c in candidates if c.lower() in spelled), "")


def mention_from(
    tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], *, account: str = ""
) -> Mention:
    user = users.get(str(tweet.get("author_id", "")), {})
    username = str(user.get("username") or tweet.get("author_id") or "unknown")
    kind, refers_to, in_reply_to = "post", None, None
    for reference in tweet.get("referenced_tweets") or []:
        kind = KINDS.get(str(reference.get("type")), kind)
        refers_to = str(reference.get("id"))
        if reference.get("type") == "replied_to":
            in_reply_to = refers_to
    metrics = tweet.get("public_metrics") or {}
    return Mention(
        network=NETWORK,
        external_id=str(tweet["id"]),
        url=post_url(username, str(tweet["id"])),
        author=MentionAuthor(
            handle=username,
            name=str(user.get("name") or ""),
            followers=int((user.get("public_metrics") or {}).get("followers_count", 0)),
            verified=bool(user.get("verified", False)),
        ),
        text=html.unescape(str(tweet.get("text", ""))),
        created_at=_time(tweet.get("created_at")),
        language=str(tweet.get("lang") or ""),
        in_reply_to=in_reply_to,
        kind=kind,
        refers_to=refers_to,
        metrics={
            "likes": int(metrics.get("like_count", 0)),
            # X's current OpenAPI names it repost_count; older answers say retweet_count.
            "reposts": int(metrics.get("repost_count", metrics.get("retweet_count", 0))),
            "replies": int(metrics.get("reply_count", 0)),
            "quotes": int(metrics.get("quote_count", 0)),
        },
        account=account,
    )


def same_post(
    text: str, reply_to: str | None, tweet: Mapping[str, Any], *, not_before: datetime | None = None
) -> bool:
    """Whether a post on the timeline is the one we asked for.

    X rewrites links to t.co and escapes `&`, `<` and `>`, so texts are compared with
    links blanked out and entities decoded; a reply must answer the same post; and a
    post older than the publication itself is someone's earlier post, not ours.
    """
    if _comparable(text) != _comparable(html.unescape(str(tweet.get("text", "")))):
        return False
    if (
        not_before is not None
        and tweet.get("created_at")
        and _time(tweet["created_at"]) < not_before
    ):
        return False
    replied = next(
        (
            str(r["id"])
            for r in tweet.get("referenced_tweets") or []
            if r.get("type") == "replied_to"
        ),
        None,
    )
    return replied == reply_to


def first_page_cursor(pages: Iterable[Mapping[str, Any]], previous: str | None) -> str | None:
    """The newest id seen, from the first page's meta (X pages from newest to oldest)."""
    for page in pages:
        newest = (page.get("meta") or {}).get("newest_id")
        return str(newest) if newest else previous
    return previous


def _comparable(text: str) -> str:
    return " ".join(_URL.sub("<link>", text).split())


def _time(value: Any) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
