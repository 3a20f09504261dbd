"""Draft images come from public web addresses only: the worker fetches them from inside the
agency's network, so an unchecked `--image URL` (or a redirect) could make it fetch and
publish what only the server can reach, and its errors would map the internal ports.

The happy path needs a local image server on loopback, so those tests allow one loopback
address explicitly (CHATOPS_IMAGE_PRIVATE_NETWORKS, as an admin would for an intranet image
host); everything else runs with the default policy.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from chatops.domain.types import Actor, ChannelRef, DraftState, MediaItem
from chatops.drafts.image_sources import ImageSources
from chatops.drafts.workflow import NewDraft
from tests.fakes.x import FakeX
from tests.test_x import on_x

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
ALLOWED = "127.0.0.2"  # the one loopback address the image tests allow; 127.0.0.1 stays refused
NOT_PUBLIC = "Image 1 was not published: its address is not a public web address."
INTERNAL_DETAIL = re.compile(r"127\.0\.0\.\d|169\.254|::1|\[|:\d{2,5}\b|Errno|Connect")


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    async with FakeX() as fake:
        yield fake


class Site:
    """An HTTP server on one loopback address, recording the paths it was asked for."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.paths: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self._handle)
        self.redirects: dict[str, str] = {}
        self.server = TestServer(self.app, host=host)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        if request.path in self.redirects:
            raise web.HTTPFound(self.redirects[request.path])
        if request.path == "/loop":
            raise web.HTTPFound("/loop")
        return web.Response(body=PNG, content_type="image/png")

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def allowed_site() -> AsyncIterator[Site]:
    site = Site(ALLOWED)
    await site.server.start_server()
    yield site
    await site.server.close()


@pytest.fixture
async def internal_site() -> AsyncIterator[Site]:
    """What must never be fetched: a service on the machine's own loopback."""
    site = Site("127.0.0.1")
    await site.server.start_server()
    yield site
    await site.server.close()


async def publish_with_image(chat, url: str) -> str:  # type: ignore[no-untyped-def]
    said = await chat.say(f'/post --image {url} --alt "Map of the detour" Detour tonight.')
    assert "Post draft 1" in said, said
    return said + await chat.say("/as bob", "/social approve 1")


def assert_no_internal_detail(text: str) -> None:
    found = INTERNAL_DETAIL.findall(text)
    assert not found, f"internal detail {found} in: {text}"


# -- the policy alone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "http://127.1/x.png",
        "http://2130706433/x.png",
        "http://0x7f.0.0.1/x.png",
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://[::ffff:169.254.169.254]/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/x.png",
        "http://192.168.0.1/x.png",
        "http://172.16.0.1/x.png",
        "http://100.64.0.1/x.png",
        "http://0.0.0.0/x.png",
        "http://[::]/x.png",
        "http://[fe80::1]/x.png",
        "http://224.0.0.1/x.png",
        "http://240.0.0.1/x.png",
        "http://[2002:7f00:1::]/x.png",
        "http://[64:ff9b::a9fe:a9fe]/x.png",
    ],
)
def test_the_default_policy_refuses_addresses_that_are_not_public(url: str) -> None:
    assert ImageSources().url_refusal(url) == "its address is not a public web address"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.gov/x.png",
        "gopher://example.gov:70/x",
        "javascript:alert(1)",
        "https:///x.png",
        "http://example.gov:port/x.png",
    ],
)
def test_the_default_policy_refuses_what_is_not_http(url: str) -> None:
    assert "is not a web address" in (ImageSources().url_refusal(url) or "")


def test_public_addresses_pass_and_the_allow_list_narrows_them() -> None:
    assert ImageSources().url_refusal("https://example.gov/a.png") is None
    assert ImageSources().url_refusal("http://93.184.215.14/a.png") is None
    assert ImageSources().address_refusal("2606:2800:21f:cb07:6820:80da:af6b:8b2c") is None
    listed = ImageSources(hosts=("portalder.gov",))
    assert listed.url_refusal("https://img.portalder.gov/a.png") is None
    assert listed.url_refusal("https://PortAlder.gov./a.png") is None
    assert "image sites" in (listed.url_refusal("https://example.com/a.png") or "")
    assert "image sites" in (listed.url_refusal("https://evilportalder.gov/a.png") or "")
    loopback = ImageSources(also_allowed=(ipaddress.ip_network(f"{ALLOWED}/32"),))
    assert loopback.address_refusal(ALLOWED) is None
    assert loopback.address_refusal("127.0.0.1") is not None


# -- through the worker, the fake X and real HTTP --------------------------------------------


async def test_an_image_on_an_allowed_address_is_published(converse, fake_x, allowed_site) -> None:
    chat = await on_x(converse, fake_x, image_private_networks=(f"{ALLOWED}/32",))
    said = await publish_with_image(chat, allowed_site.url("/detour.png"))
    assert "State: Published" in said
    [post] = fake_x.posts()
    [media_id] = post["media_ids"]
    assert fake_x.media[media_id]["bytes"] == len(PNG)


async def test_a_loopback_image_is_refused_when_the_draft_is_written(
    converse, fake_x, internal_site
) -> None:
    chat = await on_x(converse, fake_x)
    said = await chat.say(f"/post --image {internal_site.url('/x.png')} --alt map Detour.")
    assert "Image 1 cannot be used: its address is not a public web address." in said
    assert "Post draft" not in said
    assert internal_site.paths == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/secret.png",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::1]:{port}/secret.png",
        "http://localhost:{port}/secret.png",
    ],
)
async def test_a_redirect_into_the_server_is_refused_without_internal_detail(
    target: str, converse, fake_x, allowed_site, internal_site
) -> None:
    chat = await on_x(converse, fake_x, image_private_networks=(f"{ALLOWED}/32",))
    port = internal_site.server.port
    allowed_site.redirects["/detour.png"] = target.format(port=port)
    said = await publish_with_image(chat, allowed_site.url("/detour.png"))
    assert "State: Publication failed" in said
    assert NOT_PUBLIC in said
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.FAILED
    assert draft.error is not None and NOT_PUBLIC in draft.error
    assert_no_internal_detail(draft.error)
    assert_no_internal_detail(said.split("Error")[-1])
    assert internal_site.paths == []
    assert allowed_site.paths == ["/detour.png"]
    assert fake_x.posts() == [] and fake_x.media == {}


async def test_a_host_name_that_resolves_to_loopback_is_refused(
    converse, fake_x, internal_site
) -> None:
    """`localhost` passes the check of the text; the resolver refuses its addresses."""
    chat = await on_x(converse, fake_x)
    said = await publish_with_image(chat, f"http://localhost:{internal_site.server.port}/x.png")
    assert NOT_PUBLIC in said
    assert internal_site.paths == []


async def test_other_failures_say_what_happened_but_not_where(
    converse, fake_x, allowed_site
) -> None:
    chat = await on_x(
        converse, fake_x, image_private_networks=(f"{ALLOWED}/32",), publish_max_attempts=1
    )
    with socket.socket() as probe:  # a port on the allowed address where nothing listens
        probe.bind((ALLOWED, 0))
        closed = probe.getsockname()[1]
    allowed_site.redirects["/file.png"] = "file:///etc/passwd"
    cases = {
        f"http://{ALLOWED}:{closed}/x.png": "it could not be fetched from its web site",
        allowed_site.url("/loop"): "its address redirects more than 3 times",
        allowed_site.url("/file.png"): "its address is not a web address",
    }
    for number, (url, reason) in enumerate(cases.items(), start=1):
        await chat.say("/as alice", f"/post --image {url} --alt map Detour {number}.")
        await chat.say("/as bob", f"/social approve {number}")
        draft = await chat.service.core.workflow.get(number)
        assert draft.error is not None, draft
        assert f"Image 1 was not published: {reason}" in draft.error
        assert_no_internal_detail(draft.error)
    assert allowed_site.paths.count("/loop") == 4
    assert fake_x.posts() == []


async def test_describing_an_image_the_worker_would_refuse_says_so(converse, fake_x) -> None:
    """A draft written before the policy (or by another path) learns at `/social alt`."""
    chat = await on_x(converse, fake_x)
    actor = Actor("console", "alice", "alice", "console")
    await chat.service.core.workflow.create(
        actor,
        ChannelRef("console", "console"),
        NewDraft("Detour tonight.", media=(MediaItem("http://169.254.169.254/x.png"),)),
    )
    said = await chat.say("/social alt 1 Map of the detour")
    assert "Image 1 of draft 1 cannot be published: its address is not a public" in said
