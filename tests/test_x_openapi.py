"""The fake X and the X adapter, held to X's own published API description.

Our fake can agree with our adapter and both be wrong, so what the adapter sends and what
the fake answers are checked against X's OpenAPI specification, through the models of `xdk`,
X's official Python SDK: its developer platform generates them from the production spec
(X API v2 2.167, as pinned in github.com/xdevplatform/xdk specs/openapi.json for xdk 0.10.6).
They check every field's type and every required field; unknown fields are allowed, as X's
own clients allow them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import BaseModel
from xdk.media import models as media
from xdk.posts import models as posts
from xdk.users import models as users

from tests.fakes.x import FakeX
from tests.test_x import on_x, poller

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

# (method, path) -> (the request body's model or None, the success status, its answer's model)
Models = tuple[type[BaseModel] | None, int, type[BaseModel]]
OPERATIONS: dict[tuple[str, str], Models] = {
    ("POST", r"/2/tweets"): (posts.CreateRequest, 201, posts.CreateResponse),
    ("POST", r"/2/media/upload"): (None, 200, media.UploadResponse),  # multipart: a form
    ("POST", r"/2/media/metadata"): (
        media.CreateMetadataRequest,
        200,
        media.CreateMetadataResponse,
    ),
    ("GET", r"/2/users/me"): (None, 200, users.GetMeResponse),
    ("GET", r"/2/users/\d+/mentions"): (None, 200, users.GetMentionsResponse),
    ("GET", r"/2/tweets/search/recent"): (None, 200, posts.SearchRecentResponse),
}


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    async with FakeX() as fake:
        yield fake


@pytest.fixture
async def image_url() -> AsyncIterator[str]:
    app = web.Application()

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    app.router.add_get("/map.png", image)
    server = TestServer(app, host="127.0.0.2")
    await server.start_server()
    yield str(server.make_url("/map.png"))
    await server.close()


def operation(method: str, path: str) -> tuple[str, str] | None:
    for m, pattern in OPERATIONS:
        if m == method and re.fullmatch(pattern, path):
            return m, pattern
    return None


async def test_what_the_adapter_sends_and_the_fake_answers_is_what_x_describes(
    converse, fake_x: FakeX, image_url: str
) -> None:
    chat = await on_x(converse, fake_x, image_private_networks=("127.0.0.2/32",))
    long_alt = "Map of the detour: Oak Ave to 5th St, then north on Elm. " * 8
    said = await chat.say(
        f'/post --image {image_url} --alt "{long_alt.strip()}" Detour tonight, 8pm-6am. 日本語 😀',
        "/as bob",
        "/social approve 1",
    )
    assert "State: Published" in said
    mention = fake_x.add_mention("@PortAlderCity is the pier open?", author="maria")
    fake_x.add_mention("Flooding near the pier again", mentions_account=False)
    await poller(chat).poll_once()
    await chat.say("/as alice", "/alerts subscribe flooding")
    await chat.service.pollers[1][0].poll_once()
    await chat.say(f"/reply {mention} The pier is open until 8pm.", "/as bob", "/social approve 2")

    checked: set[tuple[str, str]] = set()
    for request in fake_x.requests:
        key = operation(request.method, request.path)
        if key is None:
            continue
        request_model, status, answer_model = OPERATIONS[key]
        assert request.status == status, (request.path, request.answer)
        if request_model is not None:
            request_model.model_validate(request.json)
        answer: Any = request.answer
        assert isinstance(answer, dict) and "data" in answer, (request.path, answer)
        answer_model.model_validate(answer)
        checked.add(key)
    assert checked == set(OPERATIONS)
    [post, reply] = [r.json for r in fake_x.requests_to("POST", "/2/tweets")]
    assert post["media"]["media_ids"] and reply["reply"]["in_reply_to_tweet_id"] == mention


def test_the_old_media_metadata_answer_is_refused_by_x_description() -> None:
    """What the fake answered before: `associated_metadata: true`, where X says an object."""
    with pytest.raises(ValueError, match="associated_metadata"):
        media.CreateMetadataResponse.model_validate(
            {"data": {"id": "1", "associated_metadata": True}}
        )
