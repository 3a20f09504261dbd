"""The sandbox's three networks (its X, Mastodon and Bluesky): a cross-post approved once is
published once on each, each refuses what its real network would, and the demo feed
mentions all three. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from adapters.chat.console.app import run_console
from adapters.chat.console.chat import PLATFORM
from adapters.social.sandbox.feed import CITY_ACCOUNTS, demo_feed, demo_mentions
from adapters.social.sandbox.limits import refusal_for
from adapters.social.sandbox.network import SandboxNetwork, sandbox_connections
from adapters.social.sandbox.sites import SANDBOX_BLUESKY, SANDBOX_MASTODON, SANDBOX_X, SITES
from chatops.domain.errors import PublishError
from chatops.domain.types import DraftState, MediaItem, Mention
from chatops.networks import Networks
from chatops.ports import PublishRequest
from chatops.runtime.clock import ManualClock
from chatops.service import build_service
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore
from tests.conftest import START
from tests.harness import make_settings, unwrapped

BOIL = (
    "Boil-water notice for Lowtide and River Rd: boil tap water for 1 minute before drinking "
    "or cooking until further notice. Bottled water at Port Alder High."
)
EVERY_CITY_ACCOUNT = ",".join(f"{s.network}:@PortAlderCity" for s in SITES)
LINKS = {
    "sandbox": re.compile(r"https://sandbox\.invalid/PortAlderCity/status/sbp-\d+"),
    "sandbox-mastodon": re.compile(r"https://mastodon\.sandbox\.invalid/@PortAlderCity/sbmp-\d+"),
    "sandbox-bluesky": re.compile(
        r"https://bsky\.sandbox\.invalid/profile/PortAlderCity/post/sbbp-\d+"
    ),
}


def _port(networks: Networks, network: str) -> SandboxNetwork:
    port = networks.network_port(network)
    assert isinstance(port, SandboxNetwork)
    return port


async def test_a_cross_post_approved_once_is_published_once_on_each_sandbox_network(
    converse,
) -> None:
    chat = await converse(user="alice")
    created = await chat.say(f"/post --to {EVERY_CITY_ACCOUNT} {BOIL}")
    assert "Post draft 1" in created
    published = unwrapped(await chat.say("/as bob", "/react 1 white_check_mark"))
    assert "approved by bob" in published
    assert "State: Published" in published
    links = {network: link.findall(published) for network, link in LINKS.items()}
    assert all(len(set(found)) == 1 for found in links.values()), links

    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PUBLISHED
    assert len({t.published_url for t in draft.targets}) == 3
    for site in SITES:
        posts = await _port(chat.service.networks, site.network).posts()
        assert [text for _, text in posts] == [BOIL]
        assert posts[0][0].url == links[site.network][0]
    # The outbox has nothing left to do: another round of the worker publishes nothing.
    await chat.tick()
    for site in SITES:
        assert len(await _port(chat.service.networks, site.network).posts()) == 1


async def test_all_publishes_once_on_every_account_of_every_sandbox_network(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post --to all {BOIL}")
    await chat.say("/as bob", "/react 1 white_check_mark")
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PUBLISHED
    assert len(draft.targets) == len(SITES) * len(CITY_ACCOUNTS)
    for site in SITES:
        posts = await _port(chat.service.networks, site.network).posts()
        assert len(posts) == len(CITY_ACCOUNTS)
        published_as = {
            handle
            for post, _ in posts
            for handle in CITY_ACCOUNTS
            if post.url == site.post_url(handle, post.external_id)
        }
        assert published_as == set(CITY_ACCOUNTS)


async def test_a_network_named_by_its_name_or_its_kind_reaches_only_that_network(
    converse,
) -> None:
    chat = await converse(user="alice")
    await chat.say(
        f"/post --to sandbox-mastodon:@PortAlderCity {BOIL}", "/as bob", "/social approve 1"
    )
    await chat.say("/as alice", f"/post --to bluesky {BOIL}", "/as bob", "/social approve 2")
    networks = chat.service.networks
    assert len(await _port(networks, "sandbox-mastodon").posts()) == 1
    bluesky = await _port(networks, "sandbox-bluesky").posts()
    assert len(bluesky) == len(CITY_ACCOUNTS)
    assert all(post.url.startswith("https://bsky.sandbox.invalid/") for post, _ in bluesky)
    assert await _port(networks, "sandbox").posts() == []
    targets = (await chat.service.core.workflow.get(1)).targets
    assert [t.key for t in targets] == ["sandbox-mastodon:@PortAlderCity"]


def _request(
    text: str, media: tuple[MediaItem, ...] = (), key: str = "draft-1-rev-1"
) -> PublishRequest:
    return PublishRequest(idempotency_key=key, account="PortAlderCity", text=text, media=media)


async def test_each_sandbox_network_refuses_a_text_over_its_own_limit(database_url) -> None:
    """X weighs a link 23 and most emoji 2 (280), Mastodon counts a link 23 (500), Bluesky
    counts graphemes (300), so one text can fit one network and not another."""
    db = Database(database_url)
    try:
        ports = {
            c.port.network: c.port for c in sandbox_connections(db=db, clock=ManualClock(START))
        }
        link = "https://example.org/" + "a" * 100  # 23 on X and Mastodon, 120 on Bluesky
        cases = {
            # X: 140 two-weight emoji are 280, one more is over; Bluesky counts 141.
            "sandbox": ("🌊" * 141, "as X counts them"),
            # Mastodon: 478 letters and a link are 501; Bluesky would refuse them anyway.
            "sandbox-mastodon": ("a" * 477 + " " + link, "as Mastodon counts them"),
            # Bluesky: 180 letters, a space and the whole link are 301; X counts 204.
            "sandbox-bluesky": ("a" * 180 + " " + link, "as Bluesky counts them"),
        }
        for network, (text, limit) in cases.items():
            port = ports[network]
            try:
                await port.publish(_request(text, key=f"too-long-{network}"))
            except PublishError as error:
                assert not error.retryable
                assert limit in str(error), str(error)
                assert "over the limit" in str(error)
            else:
                raise AssertionError(f"{network} published a text over its limit")
            assert await port.posts() == []
        # What one network refuses, another may publish: the X text fits Mastodon.
        fits = await ports["sandbox-mastodon"].publish(_request("🌊" * 141, key="waves"))
        assert fits.url.startswith("https://mastodon.sandbox.invalid/@PortAlderCity/sbmp-")
    finally:
        await db.dispose()


async def test_each_sandbox_network_refuses_more_than_four_images(database_url) -> None:
    db = Database(database_url)
    try:
        images = tuple(MediaItem(f"https://example.org/{n}.png", f"photo {n}") for n in range(5))
        for connection in sandbox_connections(db=db, clock=ManualClock(START)):
            port = connection.port
            try:
                await port.publish(_request("Flood photos", images, key=f"five-{port.network}"))
            except PublishError as error:
                assert not error.retryable
                assert "5 images" in str(error) and "allows 4" in str(error)
            else:
                raise AssertionError(f"{port.network} published five images")
            four = await port.publish(_request("Flood photos", images[:4], key=port.network))
            assert four.external_id
    finally:
        await db.dispose()


async def test_publishing_is_idempotent_within_each_network(database_url) -> None:
    db = Database(database_url)
    try:
        ports = [c.port for c in sandbox_connections(db=db, clock=ManualClock(START))]
        first = [await p.publish(_request(BOIL, key=f"draft-1-rev-1-{p.network}")) for p in ports]
        again = [await p.publish(_request(BOIL, key=f"draft-1-rev-1-{p.network}")) for p in ports]
        assert first == again
        assert len({post.external_id for post in first}) == 3
        for port in ports:
            assert isinstance(port, SandboxNetwork)
            assert len(await port.posts()) == 1
            # A key used on one network is never another network's post.
            other = next(p for p in ports if p is not port)
            assert (
                await port.find_published(_request(BOIL, key=f"draft-1-rev-1-{other.network}"))
                is None
            )
    finally:
        await db.dispose()


def test_each_kind_counts_as_its_network_does() -> None:
    long_for_bluesky = "a" * 301
    assert refusal_for("x")(long_for_bluesky, ()) is not None
    assert refusal_for("bluesky")(long_for_bluesky, ()) is not None
    assert refusal_for("mastodon")(long_for_bluesky, ()) is None
    # Mastodon counts a remote mention without its server.
    mention = "@PortAlderWater@mastodon.sandbox.invalid "
    assert refusal_for("mastodon")(mention + "a" * (500 - len("@PortAlderWater ")), ()) is None
    assert refusal_for("mastodon")(mention + "a" * (501 - len("@PortAlderWater ")), ()) is not None
    # A family emoji is one grapheme on Bluesky (within its 3,000 bytes: 18 each).
    assert refusal_for("bluesky")("👨‍👩‍👧" * 150 + "a" * 150, ()) is None
    assert refusal_for("bluesky")("👨‍👩‍👧" * 151 + "a" * 150, ()) is not None


def test_the_demo_feed_mentions_every_sandbox_network_with_its_accounts() -> None:
    everything = demo_mentions()
    for site in SITES:
        feed = demo_feed(site.network)
        assert feed, site.network
        assert all(m.network == site.network for m in feed)
        assert all(m.external_id.startswith(f"{site.mention_prefix}-") for m in feed)
        assert all(m.url == site.post_url(m.author.handle, m.external_id) for m in feed)
    for site in (SANDBOX_MASTODON, SANDBOX_BLUESKY):
        accounts = {m.account for m in demo_feed(site.network)}
        assert accounts <= set(CITY_ACCOUNTS) and len(accounts) > 1
    # The first network's feed is the one it always was, at the start of the file.
    first = demo_feed(SANDBOX_X.network)
    assert everything[: len(first)] == first
    assert first[0].external_id == "sbx-0001" and first[-1].external_id == "sbx-0217"
    mastodon = demo_feed(SANDBOX_MASTODON.network)[0]
    assert mastodon.url == "https://mastodon.sandbox.invalid/@bookish_bea/sbm-0001"


async def test_each_network_looks_up_only_its_own_mentions(database_url) -> None:
    db = Database(database_url)
    try:
        ports = {
            c.port.network: c.port
            for c in sandbox_connections(db=db, clock=ManualClock(START), feed=demo_mentions())
        }
        mastodon = ports["sandbox-mastodon"]
        found = await mastodon.lookup_mention("sbm-0004")
        assert found is not None and found.account == "PortAlderWater"
        assert found.network == "sandbox-mastodon"
        link = "https://bsky.sandbox.invalid/profile/eastgate_mom/post/sbb-0004"
        assert await mastodon.lookup_mention(link) is None
        assert await ports["sandbox-bluesky"].lookup_mention(link) is not None
        assert await ports["sandbox"].lookup_mention("sbm-0004") is None
    finally:
        await db.dispose()


async def _console(database_url: str, clock: ManualClock, *, batch: int) -> str:
    """One `chatops console` session with the demo on, each network's feed `batch` at a
    time (the whole feed in its first poll, or a few lines as `make run` shows them)."""
    service = build_service(make_settings(database_url), clock=clock, open_platforms={PLATFORM})
    out = io.StringIO()
    try:
        await run_console(
            service, user="alice", demo=True, stdin=io.StringIO(""), out=out, demo_batch=batch
        )
    finally:
        await service.close()
    return out.getvalue()


async def test_the_console_demo_shows_mentions_of_all_three_networks(database_url) -> None:
    shown = unwrapped(await _console(database_url, ManualClock(START), batch=3))
    assert "networks Sandbox, Sandbox Mastodon, Sandbox Bluesky (SANDBOX" in shown
    assert "on Sandbox, Sandbox Mastodon and Sandbox Bluesky arrive" in shown
    for label in ("Sandbox", "Sandbox Mastodon", "Sandbox Bluesky"):
        assert f" on {label} [SANDBOX] ─" in shown, label
    assert "https://mastodon.sandbox.invalid/@lowtide_neighbors/sbm-0003" in shown
    assert "https://bsky.sandbox.invalid/profile/riverside_dan/post/sbb-0003" in shown


async def _stored(database_url: str, network: str, reference: str) -> Mention | None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            found = await MentionStore(session).find(network, reference)
    finally:
        await db.dispose()
    return None if found is None else found.mention


async def test_replays_renew_ids_on_each_network(database_url) -> None:
    whole = len(demo_mentions())
    first = await _console(database_url, ManualClock(START), batch=whole)
    assert "starts again" not in first
    for site in SITES:
        assert await _stored(database_url, site.network, f"{site.mention_prefix}-0001")
        assert await _stored(database_url, site.network, f"{site.mention_prefix}-0001-r2") is None

    later = ManualClock(START + timedelta(hours=1))
    again = await _console(database_url, later, batch=whole)
    assert "The demo feed had played to its end: it starts again now, with new ids." in again
    for site in SITES:
        renewed = await _stored(database_url, site.network, f"{site.mention_prefix}-0001-r2")
        assert renewed is not None, site.network
        assert renewed.url == site.post_url(renewed.author.handle, renewed.external_id)
        assert renewed.account == demo_feed(site.network)[0].account
