"""One draft to several targets: one approval, one publication per target, each target's
own text and own findings, and channels with default targets."""

from __future__ import annotations

from chatops.domain.accounts import TargetState
from chatops.domain.types import ChannelRef, DraftState
from chatops.storage.audit import AuditLog
from chatops.storage.targets import ChannelTargets
from tests.harness import unwrapped

CITY = "sandbox:@PortAlderCity"
WATER = "sandbox:@PortAlderWater"
NOTICE = "Boil-water notice for Eastside until further notice."


async def test_one_approval_publishes_to_every_target_once(converse) -> None:
    chat = await converse(user="alice")
    said = unwrapped(await chat.say(f"/post --to {CITY},{WATER} {NOTICE}"))
    assert "One approval publishes it to all 2 targets" in said
    assert "Sandbox @PortAlderCity: to publish" in said
    said = unwrapped(await chat.say("/as bob", "/social approve 1"))
    draft = await chat.service.core.workflow.get(1)
    assert draft.state is DraftState.PUBLISHED
    assert [t.state for t in draft.targets] == [TargetState.PUBLISHED] * 2
    posts = await chat.service.social.posts()
    assert sorted(post.url.split("/")[3] for post, _ in posts) == [
        "PortAlderCity",
        "PortAlderWater",
    ]
    assert [text for _, text in posts] == [NOTICE, NOTICE]
    for target in draft.targets:
        assert f"published, {target.published_url}" in said
    async with chat.service.db.transaction() as session:
        events = await AuditLog(session).events(since=None)
    published = [e.details["target"] for e in events if e.action == "published"]
    assert sorted(published) == [CITY, WATER]
    assert [e.action for e in events].count("approved") == 1
    # Running the publisher again publishes nothing more.
    await chat.tick()
    assert len(await chat.service.social.posts()) == 2


async def test_a_variant_gives_one_target_its_own_text(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post --to {CITY},{WATER} {NOTICE}")
    said = await chat.say(f"/social variant 1 {WATER} Boil water in Eastside. Details: 311.")
    assert f"gave {WATER} its own text on draft 1" in said
    draft = await chat.service.core.workflow.get(1)
    assert draft.revision == 2
    assert draft.target(WATER).variant == "Boil water in Eastside. Details: 311."
    assert draft.target(CITY).variant is None
    said = unwrapped(await chat.say("/as bob", "/social approve 1"))
    texts = {post.url.split("/")[3]: text for post, text in await chat.service.social.posts()}
    assert texts == {
        "PortAlderCity": NOTICE,
        "PortAlderWater": "Boil water in Eastside. Details: 311.",
    }
    # Clearing takes the target back to the draft's text (a new revision again).
    await chat.say("/as alice", f"/post --to {CITY},{WATER} Second notice.")
    await chat.say(f"/social variant 2 {WATER} Own words.", f"/social variant 2 {WATER} --clear")
    assert (await chat.service.core.workflow.get(2)).target(WATER).variant is None


async def test_a_blocking_finding_on_one_target_blocks_approval_and_names_it(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post --to {CITY},{WATER} Short and fine.")
    await chat.say(f"/social variant 1 {WATER} {'x' * 300}")
    draft = await chat.service.core.workflow.get(1)
    blocking = draft.blocking_findings
    assert [(f.code, f.target) for f in blocking] == [("too_long", WATER)]
    said = unwrapped(await chat.say("/as bob", "/social approve 1"))
    assert "cannot be approved yet" in said
    assert f"{WATER}: The text is 300/280" in said
    assert f"/social variant 1 {WATER} TEXT" in said
    assert await chat.service.social.posts() == []
    # Fixing that target's text unblocks the whole draft.
    await chat.say("/as alice", f"/social variant 1 {WATER} Short too.")
    await chat.say("/as bob", "/social approve 1")
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHED


async def test_a_channel_sends_drafts_to_its_default_targets(converse) -> None:
    chat = await converse(user="alice", approvers=("bob",))
    refused = await chat.say(f"/social targets set {CITY},{WATER}")
    assert "needs the approver role" in refused
    said = await chat.say("/as bob", "/social targets")
    assert f"no default targets: drafts go to {CITY}" in said
    said = await chat.say(f"/social targets set {CITY} {WATER}")
    assert f"now go to {CITY}, {WATER}" in said
    await chat.say("/as alice", "/post Library opens at 10 tomorrow.")
    draft = await chat.service.core.workflow.get(1)
    assert [t.key for t in draft.targets] == [CITY, WATER]
    # --to still chooses for one draft.
    await chat.say("/post --to sandbox:@PortAlderOEM Siren test at noon.")
    assert [t.key for t in (await chat.service.core.workflow.get(2)).targets] == [
        "sandbox:@PortAlderOEM"
    ]
    said = await chat.say("/as bob", "/social targets clear")
    assert f"drafts go to {CITY}" in said
    await chat.say("/as alice", "/post Third.")
    assert [t.key for t in (await chat.service.core.workflow.get(3)).targets] == [CITY]
    async with chat.service.db.transaction() as session:
        actions = [e.action for e in await AuditLog(session).events(since=None)]
    assert "channel_targets_set" in actions and "channel_targets_cleared" in actions


async def test_unknown_targets_are_refused_naming_the_choices(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say("/post --to myspace Hello")
    assert "myspace is not a target I know" in said
    assert "sandbox:@PortAlderCity" in said
    said = await chat.say("/post --to sandbox:@Nobody Hello")
    assert "sandbox:@Nobody is not an account I can post from" in said
    said = await chat.say(f"/post --to {CITY} --account @PortAlderCity Hello")
    assert "not both" in said
    assert await chat.service.core.workflow.queue() == []
    said = await chat.say(f"/post --to {CITY} Hi", "/social variant 1 mastodon Hi")
    assert "mastodon is not one of its targets" in said


async def test_retry_of_a_target_that_did_not_fail_is_refused(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post --to {CITY},{WATER} {NOTICE}", "/as bob", "/social approve 1")
    said = await chat.say(f"/social retry 1 {WATER}")
    assert "cannot be retried" in said
    assert len(await chat.service.social.posts()) == 2


async def test_a_handle_alone_is_that_account_on_every_network(converse) -> None:
    """`@PortAlderCity` is the city's account wherever it has one; `--account` is one."""
    chat = await converse(user="alice")
    said = unwrapped(await chat.say(f"/post --to @PortAlderCity {NOTICE}"))
    assert "One approval publishes it to all 3 targets" in said
    draft = await chat.service.core.workflow.get(1)
    assert [t.key for t in draft.targets] == [
        CITY,
        "sandbox-mastodon:@PortAlderCity",
        "sandbox-bluesky:@PortAlderCity",
    ]
    await chat.say("/post --account @PortAlderWater Pipe repairs on 5th Ave.")
    assert [t.key for t in (await chat.service.core.workflow.get(2)).targets] == [WATER]


async def test_an_override_accepts_the_warning_on_every_target_that_has_it(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(f"/post --to {CITY},{WATER} {'a' * 270}")
    await chat.say(f"/social variant 1 {WATER} {'b' * 275}")
    near = [f for f in (await chat.service.core.workflow.get(1)).findings if f.code == "near_limit"]
    assert sorted(f.target for f in near) == [CITY, WATER]
    said = await chat.say("/social override 1 near_limit Checked the count by hand")
    assert "accepted the near_limit warning" in said
    near = [f for f in (await chat.service.core.workflow.get(1)).findings if f.code == "near_limit"]
    assert all(f.override == "alice: Checked the count by hand" for f in near) and len(near) == 2


async def test_a_default_naming_an_account_no_longer_connected_is_said_plainly(converse) -> None:
    """An account removed from the settings after a channel chose it: /post says so and
    drafts nothing, rather than publish elsewhere."""
    chat = await converse(user="alice")
    channel = ChannelRef("console", "console")  # the console's one channel
    async with chat.service.db.transaction() as session:
        await ChannelTargets(session).set(
            channel, "x:@PortAlderRetired", now=chat.service.clock.now()
        )
    said = await chat.say("/post Hello")
    assert "default targets (x:@PortAlderRetired) no longer match an account" in said
    assert "/social targets set TARGETS" in said
    assert await chat.service.core.workflow.queue() == []


async def test_only_an_author_or_an_approver_gives_a_target_its_own_text(converse) -> None:
    chat = await converse(user="alice", approvers=("carol",))
    await chat.say(f"/post --to {CITY},{WATER} {NOTICE}")
    said = await chat.say("/as bob", f"/social variant 1 {WATER} Bob's words.")
    assert "Only the author of draft 1 or an approver can edit it" in said
    assert (await chat.service.core.workflow.get(1)).target(WATER).variant is None  # type: ignore[union-attr]
    said = await chat.say("/as carol", f"/social variant 1 {WATER} Carol's words.")
    assert f"gave {WATER} its own text" in said
    said = await chat.say("/social approve 1")
    assert "You changed draft 1, so you cannot approve it yourself" in said
