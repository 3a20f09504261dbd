"""Reactions mean the same on every platform: the core normalizes each reaction once
(skin tones, surrounding colons, case, aliases) and withdraws an approval only when the
person has no approval reaction left on that card. Console scenarios on SQLite and
PostgreSQL."""

from __future__ import annotations

from chatops.chat.reactions import reaction_name
from chatops.domain.types import DraftState

ROAD = "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave."


def test_reaction_names_are_normalized_once() -> None:
    assert reaction_name("+1::skin-tone-3") == "+1"
    assert reaction_name(":thumbsup:") == "+1"
    assert reaction_name(" :White_Check_Mark: ") == "white_check_mark"
    assert reaction_name("heavy_check_mark") == "heavy_check_mark"
    assert reaction_name("👍🏽") == "+1"
    assert reaction_name("eyes") == "eyes"


async def test_skin_tone_reaction_approves(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD)
    approved = await chat.say("/as bob", "/react 1 +1::skin-tone-3")
    assert "approved by bob" in approved
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHED


async def test_alias_with_colons_approves(converse) -> None:
    chat = await converse(user="alice")
    await chat.say(ROAD)
    approved = await chat.say("/as bob", "/react 1 :thumbsup:")
    assert "approved by bob" in approved
    assert (await chat.service.core.workflow.get(1)).state is DraftState.PUBLISHED


async def test_removing_one_of_two_approval_reactions_keeps_the_approval(converse) -> None:
    chat = await converse(user="alice", required_approvals=2)
    await chat.say(ROAD, "/as bob", "/react 1 white_check_mark")
    again = await chat.say("/react 1 heavy_check_mark::skin-tone-2")
    assert "already approved" in again
    kept = await chat.say("/unreact 1 white_check_mark")
    assert "withdrew" not in kept
    assert ":heavy_check_mark:" in kept
    assert (await chat.service.core.workflow.get(1)).approvers == ("bob",)

    withdrawn = await chat.say("/unreact 1 :Heavy_Check_Mark:")
    assert "withdrew" in withdrawn
    assert (await chat.service.core.workflow.get(1)).approvals == ()


async def test_another_persons_reaction_does_not_keep_ones_approval(converse) -> None:
    chat = await converse(user="alice", required_approvals=3)
    await chat.say(ROAD, "/as bob", "/react 1 +1", "/as carol", "/react 1 +1")
    withdrawn = await chat.say("/as bob", "/unreact 1 thumbsup")
    assert "withdrew" in withdrawn
    assert (await chat.service.core.workflow.get(1)).approvers == ("carol",)
