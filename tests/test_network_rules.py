"""Each network kind counts a post as its servers do, and its findings name it."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from chatops.domain.types import MediaItem
from chatops.drafts.network_rules import KINDS, graphemes, rules_for
from chatops.drafts.policy import check, media_findings, network_findings
from tests.test_cli import run

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # four people, ZWJ-joined
FLAG = "\U0001f1eb\U0001f1f7"  # two regional indicators
E_ACUTE = "e\u0301"  # "e" and a combining acute accent
LONG_URL = "https://example.gov/" + "a" * 80  # 100 characters


def codes(findings: object) -> list[str]:
    return [f.code for f in findings]  # type: ignore[attr-defined]


def test_bluesky_counts_a_family_a_flag_and_an_accented_letter_as_one_each() -> None:
    text = f"{FAMILY} {FLAG} {E_ACUTE}"
    assert rules_for("bluesky").count(text).weighted == 5
    assert check(text, "bluesky").weighted_length == 5
    assert check(text, "x").weighted_length > 5  # X weighs emoji 2 each


def test_bluesky_blocks_at_301_graphemes_not_300() -> None:
    fits = FAMILY * 100 + "é" * 100 + "a" * 100
    assert len(fits) > 300 and rules_for("bluesky").count(fits).weighted == 300
    assert "too_long" not in codes(network_findings(fits, (), "bluesky"))

    over = fits + FLAG
    found = network_findings(over, (), "bluesky")
    assert codes(found) == ["too_long"]
    assert found[0].message == (
        "The text is 301/300 characters as Bluesky counts them, 1 over the limit."
    )
    assert "links count in full" in found[0].suggestion
    assert found[0].span == (len(fits), len(over))


def test_bluesky_counts_a_link_in_full() -> None:
    text = "Detour: " + LONG_URL + " " + "a" * 200
    assert rules_for("bluesky").count(text).weighted == len(text)  # 309
    assert codes(network_findings(text, (), "bluesky")) == ["too_long"]
    assert codes(network_findings(text, (), "x")) == []  # 8 + 23 + 201 on X


def test_bluesky_refuses_more_than_3000_bytes_even_within_300_graphemes() -> None:
    text = FAMILY * 121  # 121 graphemes, 3,025 bytes
    found = network_findings(text, (), "bluesky")
    assert codes(found) == ["too_long"]
    assert "3,025 bytes; Bluesky accepts 3,000" in found[0].message


def test_2000_combining_marks_are_counted_as_one_grapheme() -> None:
    text = "e" + "\u0301" * 1_999
    assert rules_for("bluesky").count(text).weighted == 1
    assert graphemes(text) == 1
    assert rules_for("mastodon").count(text).weighted == 1
    assert check(text, "bluesky").weighted_length == 1


def test_mastodon_counts_a_long_link_as_23() -> None:
    assert rules_for("mastodon").count(LONG_URL).weighted == 23
    text = f"Details: {LONG_URL}."
    assert rules_for("mastodon").count(text).weighted == len("Details: ") + 23 + 1


def test_mastodon_counts_a_remote_mention_without_its_domain() -> None:
    assert rules_for("mastodon").count("@someone@example.social").weighted == len("@someone")
    text = "Thanks @someone@example.social and @local!"
    assert rules_for("mastodon").count(text).weighted == len("Thanks @someone and @local!")
    # An address in an e-mail is not a mention: it counts in full.
    assert rules_for("mastodon").count("ask a@b.org").weighted == len("ask a@b.org")


def test_mastodon_blocks_at_501_by_default() -> None:
    assert codes(network_findings("a" * 500, (), "mastodon")) == ["near_limit"]
    found = network_findings("a" * 501, (), "mastodon")
    assert codes(found) == ["too_long"]
    assert found[0].message == (
        "The text is 501/500 characters as Mastodon counts them, 1 over the limit."
    )
    assert "links count as 23" in found[0].suggestion
    assert "@domain not at all" in found[0].suggestion


def test_mastodon_links_and_mentions_can_make_a_long_text_fit() -> None:
    text = ("a" * 300) + " " + LONG_URL + " " + "@someone@example.social " + ("b" * 100)
    assert len(text) > 500
    assert codes(network_findings(text, (), "mastodon")) == []


def test_an_instances_own_limit_replaces_the_default() -> None:
    text = "a" * 800
    assert codes(network_findings(text, (), "mastodon")) == ["too_long"]
    assert codes(network_findings(text, (), "mastodon", max_chars=1_000)) == []
    found = network_findings("a" * 1_001, (), "mastodon", max_chars=1_000)
    assert found[0].message == (
        "The text is 1,001/1,000 characters as Mastodon counts them, 1 over the limit."
    )
    result = check(text, "mastodon", max_chars=1_000)
    assert (result.weighted_length, result.limit, result.valid) == (800, 1_000, True)
    assert rules_for("mastodon", max_chars=1_000).max_chars == 1_000
    assert rules_for("mastodon").max_chars == 500


def test_an_unknown_kind_or_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="known kinds: bluesky, mastodon, x"):
        rules_for("myspace")
    with pytest.raises(ValueError, match="at least 1"):
        rules_for("mastodon", max_chars=0)


def test_the_sandbox_keeps_x_rules() -> None:
    assert check("x" * 281, "sandbox").limit == 280
    assert codes(network_findings("x" * 281, (), "sandbox")) == ["too_long"]


@pytest.mark.parametrize(
    ("kind", "label", "images"),
    [("x", "X", 4), ("mastodon", "Mastodon", 4), ("bluesky", "Bluesky", 4)],
)
def test_each_network_names_itself_when_there_are_too_many_images(
    kind: str, label: str, images: int
) -> None:
    media = [MediaItem(f"https://example.gov/{n}.png", "A map") for n in range(images + 1)]
    found = media_findings(media, kind)
    assert codes(found) == ["too_many_images"]
    assert found[0].message == f"The post has {images + 1} images; {label} allows {images}."
    assert codes(media_findings(media[:images], kind)) == []


@pytest.mark.parametrize(
    ("kind", "label", "limit"),
    [("x", "X", 1_000), ("mastodon", "Mastodon", 1_500), ("bluesky", "Bluesky", 2_000)],
)
def test_each_network_has_its_own_alt_text_limit(kind: str, label: str, limit: int) -> None:
    fits = [MediaItem("https://example.gov/map.png", "m" * limit)]
    assert media_findings(fits, kind) == []
    over = [MediaItem("https://example.gov/map.png", "m" * (limit + 1))]
    found = media_findings(over, kind)
    assert codes(found) == ["alt_text_too_long"]
    assert found[0].message == (
        f"Image 1's alt text is {limit + 1:,} characters; {label} accepts {limit:,}."
    )


def test_bluesky_counts_alt_text_in_graphemes_mastodon_in_code_points() -> None:
    alt = [MediaItem("https://example.gov/map.png", E_ACUTE * 1_000)]  # 2,000 code points
    assert media_findings(alt, "bluesky") == []
    assert codes(media_findings(alt, "mastodon")) == ["alt_text_too_long"]


def test_an_image_without_alt_text_names_the_network() -> None:
    found = network_findings("Flood map", [MediaItem("https://example.gov/map.png")], "bluesky")
    assert codes(found) == ["image_without_alt"]
    assert "on Bluesky" in found[0].message


def test_network_findings_leave_emptiness_and_compliance_to_check() -> None:
    assert network_findings("   ", (), "mastodon") == ()
    shouting = "EVACUATE NOW, THE RIVER IS RISING FAST AND THE BRIDGE IS CLOSED"
    assert "all_caps" not in codes(network_findings(shouting, (), "bluesky"))
    assert codes(check("   ", "bluesky").findings) == ["empty"]


def test_near_the_limit_says_as_which_network_counts() -> None:
    found = network_findings("a" * 290, (), "bluesky")
    assert codes(found) == ["near_limit"]
    assert found[0].message == (
        "The text is 290/300 characters as Bluesky counts them, close to the limit."
    )


def test_kinds_are_the_three_networks() -> None:
    assert set(KINDS) == {"x", "mastodon", "bluesky"}
    assert {rules_for(kind).label for kind in KINDS} == {"X", "Mastodon", "Bluesky"}


def test_check_on_bluesky_prints_its_count_and_limit() -> None:
    text = f"Road closed {FLAG} {FAMILY} detour via Oak Ave."
    ok = run(["check", "--network", "bluesky", text], "sqlite+aiosqlite:///unused.db")
    assert ok.returncode == 0, ok.stderr
    assert f"{graphemes(text)}/300 characters on bluesky." in ok.stdout
    long = run(["check", "--network", "bluesky", "é" * 301], "sqlite+aiosqlite:///unused.db")
    assert long.returncode == 1
    assert "blocking [too_long]: The text is 301/300 characters as Bluesky counts them" in (
        long.stdout
    )


def test_check_on_mastodon_takes_the_instances_limit() -> None:
    text = "a" * 600
    refused = run(["check", "--network", "mastodon", text], "sqlite+aiosqlite:///unused.db")
    assert refused.returncode == 1
    assert "600/500 characters on mastodon." in refused.stdout
    wider = run(
        ["check", "--network", "mastodon", "--max-chars", "1000", text],
        "sqlite+aiosqlite:///unused.db",
    )
    assert wider.returncode == 0, wider.stdout
    assert "600/1000 characters on mastodon." in wider.stdout


def test_a_run_of_2000_flag_letters_is_1000_flags() -> None:
    text = "\U0001f1eb" * 2_000
    assert rules_for("bluesky").count(text).weighted == 1_000
    assert rules_for("mastodon").count(text + "\U0001f1f7").weighted == 1_001
    found = network_findings(text, (), "bluesky")
    assert found[0].span == (600, 2_000)  # the 301st flag starts at its 601st letter


CLUSTER_PARTS = st.lists(
    st.sampled_from(
        [
            "a",
            "é",
            "e\u0301",
            "\u0301",
            "\u200d",
            "\U0001f1eb",
            "\U0001f1f7",
            FAMILY,
            "\r\n",
            "\n",
            "\u1100",
            "\u1161",
            "\u0600",
            " ",
            "\U0001f3fd",
        ]
    ),
    max_size=40,
)


@given(CLUSTER_PARTS)
def test_cutting_runs_of_flag_letters_keeps_unicodes_clusters(parts: list[str]) -> None:
    """The flag-letter runs are cut only where Unicode's rules end a cluster anyway."""
    text = "".join(parts)
    assert graphemes(text) == len(regex.findall(r"\X", text))
