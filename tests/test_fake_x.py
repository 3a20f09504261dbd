"""Prove FakeX against tweepy's real AsyncClient.

Other tests trust the fake to behave like X; these pin that trust to tweepy's own query
encoding, OAuth 1.0a signing, response parsing, pagination and exception mapping, reaching the
fake the way production reaches X: through a session that only swaps the origin.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from oauthlib.oauth1 import Client as OAuth1Client
from tweepy.asynchronous import AsyncClient, AsyncPaginator
from tweepy.errors import (
    BadRequest,
    Forbidden,
    TooManyRequests,
    TwitterServerError,
    Unauthorized,
)
from yarl import URL

from tests.fakes.x import FakeX

X_ORIGIN = "https://api.twitter.com"
ACCOUNT = "1000"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class OriginSwappingSession:
    """Stands in for ``AsyncClient.session``: tweepy hard-codes X's origin, so every request
    goes to the fake instead, with path and query untouched.

    OAuth 1.0a requests arrive as a ``yarl.URL`` built with ``encoded=True`` (tweepy signed
    that exact string); rebuilding it the same way keeps the encoding the signature covers.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base_url = base_url

    def _swap(self, url: str) -> str:
        if not url.startswith(X_ORIGIN):
            raise AssertionError(f"unexpected URL outside the X API: {url}")
        return self._base_url + url[len(X_ORIGIN) :]

    def request(
        self, method: str, url: str | URL, **kwargs: Any
    ) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        target: str | URL = (
            URL(self._swap(str(url)), encoded=True) if isinstance(url, URL) else self._swap(url)
        )
        return self._session.request(method, target, **kwargs)


@pytest.fixture
async def fake() -> AsyncIterator[FakeX]:
    async with FakeX() as x:
        yield x


@pytest.fixture
async def session(fake: FakeX) -> AsyncIterator[OriginSwappingSession]:
    async with aiohttp.ClientSession() as http:
        yield OriginSwappingSession(http, fake.base_url)


def make_client(session: OriginSwappingSession, **overrides: Any) -> AsyncClient:
    credentials: dict[str, Any] = {
        "bearer_token": "bearer-test",
        "consumer_key": "ck-test",
        "consumer_secret": "cs-test",
        "access_token": "at-test",
        "access_token_secret": "ats-test",
    }
    credentials.update(overrides)
    client = AsyncClient(**credentials)
    client.session = session
    return client


@pytest.fixture
def client(session: OriginSwappingSession) -> AsyncClient:
    return make_client(session)


def oauth1_headers(url: str, method: str = "POST", **headers: str) -> dict[str, str]:
    """Sign as any OAuth 1.0a client would: over X's canonical URL, never over the fake's."""
    signer = OAuth1Client("ck-test", "cs-test", "at-test", "ats-test")
    _, signed, _ = signer.sign(url, method, headers=headers or None)
    return dict(signed)


async def test_get_me_needs_user_context(fake: FakeX, client: AsyncClient) -> None:
    me = await client.get_me(user_fields=["verified", "public_metrics"])
    assert (str(me.data.id), me.data.username, me.data.name) == (
        ACCOUNT,
        "PortAlderCity",
        "City of Port Alder",
    )
    assert me.data.verified is True
    assert fake.requests[-1].auth == "oauth1"
    assert fake.requests[-1].query == {"user.fields": "verified,public_metrics"}

    with pytest.raises(Forbidden, match="Application-Only is forbidden"):
        await client.get_me(user_auth=False)
    assert fake.requests[-1].auth == "bearer"


async def test_user_lookup_by_username(fake: FakeX, client: AsyncClient) -> None:
    fake.add_mention("hello", author="harbourwatch", name="Harbour Watch", followers=900)
    found = await client.get_user(username="HarbourWatch", user_fields=["public_metrics"])
    assert found.data.username == "harbourwatch"
    assert found.data.public_metrics["followers_count"] == 900

    missing = await client.get_user(username="nobody_here")
    assert missing.data is None
    assert missing.errors[0]["detail"] == "Could not find user with username: [nobody_here]."
    assert missing.errors[0]["title"] == "Not Found Error"


async def test_mentions_since_id_with_author_expansion(fake: FakeX, client: AsyncClient) -> None:
    old = fake.add_mention("@PortAlderCity old news", author="early_bird")
    post = await client.create_tweet(text="Water main repaired on Elm St.")
    first = fake.add_mention(
        "@PortAlderCity is the pool open?", author="swimmer", followers=4200, verified=True
    )
    second = fake.add_mention(
        "@PortAlderCity thanks!",
        author="neighbour",
        in_reply_to=post.data["id"],
        likes=3,
        reposts=1,
    )
    fake.add_mention("not about the city", author="elsewhere", mentions_account=False)
    assert int(old) < int(first) < int(second)

    page = await client.get_users_mentions(
        ACCOUNT,
        since_id=old,
        expansions="author_id",
        user_fields=["public_metrics", "verified"],
        tweet_fields=["created_at", "author_id", "public_metrics", "referenced_tweets"],
    )
    assert [t.id for t in page.data] == [int(second), int(first)]
    assert page.meta == {"result_count": 2, "newest_id": second, "oldest_id": first}
    reply = page.data[0]
    assert reply.referenced_tweets[0].type == "replied_to"
    assert reply.referenced_tweets[0].id == int(post.data["id"])
    assert reply.public_metrics["like_count"] == 3
    assert reply.public_metrics["retweet_count"] == 1
    assert reply.created_at.tzinfo is not None
    users = {u.username: u for u in page.includes["users"]}
    assert set(users) == {"swimmer", "neighbour"}
    assert users["swimmer"].verified is True
    assert users["swimmer"].public_metrics["followers_count"] == 4200
    assert page.data[1].author_id == int(users["swimmer"].id)
    assert fake.requests[-1].auth == "bearer"

    # Fields not asked for are absent, and no expansion means no includes.
    plain = await client.get_users_mentions(ACCOUNT, since_id=old)
    assert plain.includes == {}
    assert set(plain.data[0].data) == {"id", "text", "edit_history_tweet_ids"}

    nothing = await client.get_users_mentions(ACCOUNT, since_id=second)
    assert nothing.data is None
    assert nothing.meta == {"result_count": 0}

    # User context signs the query, including a timestamp tweepy sends with colons escaped.
    signed = await client.get_users_mentions(
        ACCOUNT,
        user_auth=True,
        start_time=datetime.now(UTC) - timedelta(hours=1),
        max_results=5,
    )
    assert fake.requests[-1].auth == "oauth1"
    assert len(signed.data) == 3


async def test_mentions_pagination(fake: FakeX, client: AsyncClient) -> None:
    ids = [fake.add_mention(f"@PortAlderCity report {n}") for n in range(25)]

    pages = [
        page async for page in AsyncPaginator(client.get_users_mentions, ACCOUNT, max_results=10)
    ]

    assert [len(page.data) for page in pages] == [10, 10, 5]
    seen = [str(t.id) for page in pages for t in page.data]
    assert seen == list(reversed(ids))
    assert "next_token" not in pages[-1].meta
    tokens = [r.query.get("pagination_token") for r in fake.requests_to("GET", "/2/users/")]
    assert tokens[0] is None
    assert tokens[1] == pages[0].meta["next_token"]
    assert tokens[2] == pages[1].meta["next_token"]

    with pytest.raises(BadRequest, match="not between 5 and 100"):
        await client.get_users_mentions(ACCOUNT, max_results=3)


async def test_search_recent_query_language(fake: FakeX, client: AsyncClient) -> None:
    flood = fake.add_mention("FLOOD warning on the river road", mentions_account=False)
    boil = fake.add_mention('Is there a "boil water" notice? Boil   water now.')
    fake.add_mention("Flooding everywhere", author="other")
    fake.add_mention("Water to boil for pasta")
    spanish = fake.add_mention("flood en la calle", lang="es", author="vecino")

    found = await client.search_recent_tweets(
        'flood OR "boil water" -is:retweet',
        expansions=["author_id"],
        tweet_fields=["lang"],
    )
    assert [str(t.id) for t in found.data] == [spanish, boil, flood]
    assert found.meta["result_count"] == 3
    assert fake.requests[-1].query["query"] == 'flood OR "boil water" -is:retweet'

    english = await client.search_recent_tweets("(flood OR boil) lang:en -pasta")
    assert [str(t.id) for t in english.data] == [boil, flood]

    nothing = await client.search_recent_tweets("parade")
    assert nothing.data is None
    assert nothing.meta == {"result_count": 0}

    with pytest.raises(BadRequest, match="errors processing your request"):
        await client.search_recent_tweets("(flood")
    with pytest.raises(BadRequest, match="not between 10 and 100"):
        await client.search_recent_tweets("flood", max_results=5)


async def test_search_pagination_uses_next_token(fake: FakeX, client: AsyncClient) -> None:
    for n in range(12):
        fake.add_mention(f"flood report {n}")
    pages = [
        page async for page in AsyncPaginator(client.search_recent_tweets, "flood", max_results=10)
    ]
    assert [len(page.data) for page in pages] == [10, 2]
    assert fake.requests[-1].query["next_token"] == pages[0].meta["next_token"]


async def test_create_tweet_and_reply(fake: FakeX, client: AsyncClient) -> None:
    question = fake.add_mention("@PortAlderCity when is bulk pickup?", author="asker")

    created = await client.create_tweet(text="Bulk pickup starts Monday.")
    assert created.data["text"] == "Bulk pickup starts Monday."
    assert created.data["edit_history_tweet_ids"] == [created.data["id"]]
    reply = await client.create_tweet(
        text="@asker Monday, 7am to 3pm.", in_reply_to_tweet_id=question
    )
    assert int(reply.data["id"]) > int(created.data["id"]) > int(question)
    assert fake.requests_to("POST", "/2/tweets")[-1].json == {
        "text": "@asker Monday, 7am to 3pm.",
        "reply": {"in_reply_to_tweet_id": question},
    }

    posts = fake.posts()
    assert [(p["id"], p["text"], p["in_reply_to"]) for p in posts] == [
        (created.data["id"], "Bulk pickup starts Monday.", None),
        (reply.data["id"], "@asker Monday, 7am to 3pm.", question),
    ]

    looked_up = await client.get_tweet(
        reply.data["id"],
        tweet_fields=["conversation_id", "in_reply_to_user_id", "referenced_tweets"],
    )
    asker = await client.get_user(username="asker")
    assert looked_up.data.conversation_id == int(question)
    assert looked_up.data.in_reply_to_user_id == asker.data.id

    timeline = await client.get_users_tweets(ACCOUNT)
    assert [str(t.id) for t in timeline.data] == [reply.data["id"], created.data["id"]]

    missing = await client.get_tweet("1")
    assert missing.data is None
    assert missing.errors[0]["detail"] == "Could not find tweet with id: [1]."

    with pytest.raises(BadRequest, match="too long"):
        await client.create_tweet(text="x" * 281)
    with pytest.raises(Forbidden, match="not visible to you"):
        await client.create_tweet(text="to nowhere", in_reply_to_tweet_id="1")
    with pytest.raises(Forbidden, match="Application-Only is forbidden"):
        await client.create_tweet(text="app-only cannot post", user_auth=False)


async def test_duplicate_content_is_forbidden(fake: FakeX, client: AsyncClient) -> None:
    await client.create_tweet(text="Library closed today.")
    with pytest.raises(Forbidden) as raised:
        await client.create_tweet(text="Library closed today.")
    assert raised.value.api_messages == [
        "You are not allowed to create a Tweet with duplicate content."
    ]
    assert len(fake.posts()) == 1


async def test_rate_limit_answers_429_with_reset(fake: FakeX, client: AsyncClient) -> None:
    fake.rate_limit("/2/users/1000/mentions", reset_in=1.0)
    with pytest.raises(TooManyRequests) as raised:
        await client.get_users_mentions(ACCOUNT)
    now = int(time.time())
    assert raised.value.reset_time is not None
    assert now <= raised.value.reset_time <= now + 2
    assert raised.value.response.headers["x-rate-limit-remaining"] == "0"
    assert raised.value.api_messages == ["Too Many Requests"]

    # Consumed: the next call goes through with the default window headers.
    raw = make_client(client.session, return_type=aiohttp.ClientResponse)
    response = await raw.get_users_mentions(ACCOUNT)
    assert response.status == 200
    assert response.headers["x-rate-limit-limit"] == "450"
    assert response.headers["x-rate-limit-remaining"] == "449"


async def test_window_counts_down_then_limits(fake: FakeX, client: AsyncClient) -> None:
    fake.set_window("/2/tweets/search", remaining=2, reset_in=60)
    raw = make_client(client.session, return_type=aiohttp.ClientResponse)
    first = await raw.search_recent_tweets("flood")
    second = await raw.search_recent_tweets("flood")
    assert first.headers["x-rate-limit-remaining"] == "1"
    assert second.headers["x-rate-limit-remaining"] == "0"
    with pytest.raises(TooManyRequests) as raised:
        await client.search_recent_tweets("flood")
    assert raised.value.reset_time is not None
    assert raised.value.reset_time >= int(time.time()) + 59

    # Other prefixes keep the default window.
    await client.get_users_mentions(ACCOUNT)


async def test_server_error_and_scripted_auth_failures(fake: FakeX, client: AsyncClient) -> None:
    fake.server_error("/2/tweets", times=1)
    with pytest.raises(TwitterServerError) as raised:
        await client.create_tweet(text="During the outage")
    assert raised.value.response.status == 503
    assert raised.value.api_messages == ["Service Unavailable"]
    assert fake.posts() == []

    fake.unauthorized("/2/users/me", status=403)
    with pytest.raises(Forbidden):
        await client.get_me()
    await client.get_me()


async def test_wrong_credentials_are_unauthorized(
    fake: FakeX, session: OriginSwappingSession
) -> None:
    wrong_secret = make_client(session, consumer_secret="not-the-secret")
    with pytest.raises(Unauthorized) as raised:
        await wrong_secret.get_me()
    assert raised.value.response.status == 401
    assert fake.requests[-1].auth == "invalid"

    wrong_bearer = make_client(session, bearer_token="nope")
    with pytest.raises(Unauthorized):
        await wrong_bearer.get_users_mentions(ACCOUNT)
    assert fake.requests[-1].auth == "invalid"

    async with session.request("GET", f"{X_ORIGIN}/2/users/{ACCOUNT}/mentions") as anonymous:
        assert anonymous.status == 401
        assert await anonymous.json() == {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        }
    assert fake.requests[-1].auth == "none"


async def test_dropped_connection_after_accepting(fake: FakeX, client: AsyncClient) -> None:
    fake.drop_after_accepting()
    with pytest.raises(aiohttp.ClientError):
        await client.create_tweet(text="Snow routes in effect.")
    assert [p["text"] for p in fake.posts()] == ["Snow routes in effect."]

    # The post went out: a blind retry is refused as a duplicate, and a lookup finds it.
    with pytest.raises(Forbidden):
        await client.create_tweet(text="Snow routes in effect.")
    timeline = await client.get_users_tweets(ACCOUNT, max_results=5)
    assert [t.text for t in timeline.data] == ["Snow routes in effect."]


async def test_slow_answers_let_client_timeouts_fire(fake: FakeX, client: AsyncClient) -> None:
    fake.slow("/2/users/me", seconds=0.3)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await client.get_me()
    me = await client.get_me()
    assert str(me.data.id) == ACCOUNT


async def test_media_upload_with_alt_text(
    fake: FakeX, session: OriginSwappingSession, client: AsyncClient
) -> None:
    upload_url = f"{X_ORIGIN}/2/media/upload"
    form = aiohttp.FormData()
    form.add_field("media", PNG_1X1, filename="notice.png", content_type="image/png")
    form.add_field("media_category", "tweet_image")
    async with session.request(
        "POST", upload_url, data=form, headers=oauth1_headers(upload_url)
    ) as response:
        assert response.status == 200
        uploaded = await response.json()
    media_id = uploaded["data"]["id"]
    assert media_id.isdigit()
    assert uploaded["data"] == {
        "id": media_id,
        "media_key": f"3_{media_id}",
        "size": len(PNG_1X1),
        "expires_after_secs": 86400,
        "image": {"image_type": "image/png", "w": 1, "h": 1},
    }
    assert fake.requests[-1].auth == "oauth1"
    assert fake.requests[-1].form["media"] == PNG_1X1

    metadata_url = f"{X_ORIGIN}/2/media/metadata"
    body = {"id": media_id, "metadata": {"alt_text": {"text": "Map of snow routes"}}}
    headers = oauth1_headers(metadata_url, **{"Content-Type": "application/json"})
    async with session.request("POST", metadata_url, json=body, headers=headers) as response:
        assert response.status == 200
        associated = {"alt_text": {"text": "Map of snow routes"}}
        assert await response.json() == {
            "data": {"id": media_id, "associated_metadata": associated}
        }
    assert fake.media[media_id] == {
        "bytes": len(PNG_1X1),
        "category": "tweet_image",
        "alt_text": "Map of snow routes",
    }

    posted = await client.create_tweet(text="Snow routes map", media_ids=[media_id])
    assert fake.posts()[-1]["media_ids"] == [media_id]
    assert posted.data["text"] == "Snow routes map"
    with pytest.raises(BadRequest, match="media IDs are invalid"):
        await client.create_tweet(text="Bad media", media_ids=["123"])

    # A signature made for another URL (here: the fake's own) does not verify.
    form = aiohttp.FormData()
    form.add_field("media", PNG_1X1, filename="notice.png", content_type="image/png")
    wrong = oauth1_headers(f"{fake.base_url}/2/media/upload")
    async with session.request("POST", upload_url, data=form, headers=wrong) as response:
        assert response.status == 401

    # X's newer JSON form of the same upload (base64 media) is accepted too; garbage is not.
    body = {"media": base64.b64encode(PNG_1X1).decode(), "media_category": "tweet_image"}
    headers = oauth1_headers(upload_url, **{"Content-Type": "application/json"})
    async with session.request("POST", upload_url, json=body, headers=headers) as response:
        assert response.status == 200
        second_id = (await response.json())["data"]["id"]
    assert int(second_id) > int(media_id)
    assert fake.media[second_id]["alt_text"] is None

    form = aiohttp.FormData()
    form.add_field("media", b"not an image", filename="x.bin")
    async with session.request(
        "POST", upload_url, data=form, headers=oauth1_headers(upload_url)
    ) as response:
        assert response.status == 400
        assert (await response.json())["title"] == "Invalid Request"
