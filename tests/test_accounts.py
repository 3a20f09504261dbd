"""Many accounts: CHATOPS_ACCOUNTS with credentials by name, each X account publishing as
itself, `/social accounts`, `chatops doctor` per account, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.social.x.doctor import check_x
from adapters.social.x.limits import EndpointLimits
from adapters.social.x.network import XNetwork
from chatops.domain.types import DraftState
from chatops.runtime.doctor import diagnose
from chatops.runtime.settings import Settings
from tests.fakes.x import FakeX
from tests.harness import Conversation, make_settings, unwrapped
from tests.test_cli import one_line, run
from tests.test_secret_leaks import assert_no_secret, capture_logs

__all__ = ["capture_logs"]  # the fixture, used by name below

CITY = {
    "X_CITY_BEARER_TOKEN": "city-bearer-ZQ7",
    "X_CITY_API_KEY": "city-ck-ZQ7",
    "X_CITY_API_SECRET": "city-cs-ZQ7",
    "X_CITY_ACCESS_TOKEN": "1000-city-at-ZQ7",
    "X_CITY_ACCESS_TOKEN_SECRET": "city-ats-ZQ7",
}
PD = {
    "X_PD_BEARER_TOKEN": "pd-bearer-ZQ7",
    "X_PD_API_KEY": "pd-ck-ZQ7",
    "X_PD_API_SECRET": "pd-cs-ZQ7",
    "X_PD_ACCESS_TOKEN": "2000-pd-at-ZQ7",
    "X_PD_ACCESS_TOKEN_SECRET": "pd-ats-ZQ7",
}
PD_USER_CONTEXT = "X_PD_API_KEY, X_PD_API_SECRET, X_PD_ACCESS_TOKEN, X_PD_ACCESS_TOKEN_SECRET"
TWO_ACCOUNTS: list[dict[str, Any]] = [
    {"network": "x", "handle": "PortAlderCity", "credentials": "X_CITY", "default": True},
    {"network": "x", "handle": "PortAlderPD", "credentials": "X_PD", "required_approvals": 2},
]


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    """The fake X knows the city's account (its first) and the police department's, each
    with its own app and keys."""
    async with FakeX(
        bearer_token=CITY["X_CITY_BEARER_TOKEN"],
        consumer_key=CITY["X_CITY_API_KEY"],
        consumer_secret=CITY["X_CITY_API_SECRET"],
        access_token=CITY["X_CITY_ACCESS_TOKEN"],
        access_token_secret=CITY["X_CITY_ACCESS_TOKEN_SECRET"],
    ) as fake:
        fake.add_account(
            "PortAlderPD",
            user_id="2000",
            name="Port Alder Police",
            bearer_token=PD["X_PD_BEARER_TOKEN"],
            consumer_key=PD["X_PD_API_KEY"],
            consumer_secret=PD["X_PD_API_SECRET"],
            access_token=PD["X_PD_ACCESS_TOKEN"],
            access_token_secret=PD["X_PD_ACCESS_TOKEN_SECRET"],
        )
        yield fake


def accounts_settings(
    fake: FakeX, accounts: list[dict[str, Any]], credentials: dict[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "accounts": json.dumps(accounts),
        "account_credentials": credentials,
        "x_api_base_url": fake.base_url,
        "x_timeout_seconds": 2,
        **extra,
    }


async def on_accounts(converse, fake: FakeX, **settings: Any) -> Conversation:  # type: ignore[no-untyped-def]
    chat: Conversation = await converse(user="alice", **settings)
    fake.clock = chat.clock.now
    for port in chat.service.networks.ports:
        assert isinstance(port, XNetwork)
        port.backoff = 0.01
        port.limits = EndpointLimits(jitter=0)
        await port.start()  # the harness starts only the first
    return chat


async def test_two_x_accounts_publish_as_themselves(
    converse, fake_x: FakeX, capture_logs: Callable[[Settings], Any]
) -> None:
    settings = accounts_settings(fake_x, TWO_ACCOUNTS, {**CITY, **PD})
    logs = capture_logs(make_settings("sqlite+aiosqlite:///unused.db", **settings))
    chat = await on_accounts(converse, fake_x, **settings)

    said = await chat.say("/post --to x:@PortAlderPD Road closed at 5th and Oak for a collision.")
    assert "@PortAlderPD" in unwrapped(said)
    draft = await chat.service.core.workflow.get(1)
    assert draft.required_approvals == 2  # PD's, over the agency's 1
    await chat.say("/as bob", "/social approve 1")
    assert fake_x.posts(of="PortAlderPD") == []  # one approval is not enough for PD
    said = await chat.say("/as carol", "/social approve 1")
    assert "Published" in said
    [post] = fake_x.posts(of="PortAlderPD")
    assert post["text"] == "Road closed at 5th and Oak for a collision."
    assert post["posted_with"] == PD["X_PD_ACCESS_TOKEN"]
    assert fake_x.posts() == []  # nothing from the city's account
    [create] = fake_x.requests_to("POST", "/2/tweets")
    assert create.user_id == "2000"
    draft = await chat.service.core.workflow.get(1)
    assert draft.published_url == f"https://x.com/PortAlderPD/status/{post['id']}"

    # Without --to, the default account: the city's, which needs one approval.
    await chat.say("/as alice", "/post Library open until 8pm tonight.", "/as bob")
    assert "Published" in await chat.say("/social approve 2")
    [city_post] = fake_x.posts()
    assert city_post["text"] == "Library open until 8pm tonight."
    assert city_post["posted_with"] == CITY["X_CITY_ACCESS_TOKEN"]
    assert len(fake_x.posts(of="PortAlderPD")) == 1
    # Each account asked X who it is with its own keys, once.
    me = fake_x.requests_to("GET", "/2/users/me")
    assert sorted(r.user_id or "" for r in me) == ["1000", "2000"]
    assert_no_secret(logs.getvalue(), {**CITY, **PD}, "the logs")


async def test_the_single_account_settings_are_one_more_account(converse, fake_x: FakeX) -> None:
    """X_BEARER_TOKEN and the others, as before, beside a named account: the default."""
    legacy = {
        "x_bearer_token": CITY["X_CITY_BEARER_TOKEN"],
        "x_api_key": CITY["X_CITY_API_KEY"],
        "x_api_secret": CITY["X_CITY_API_SECRET"],
        "x_access_token": CITY["X_CITY_ACCESS_TOKEN"],
        "x_access_token_secret": CITY["X_CITY_ACCESS_TOKEN_SECRET"],
    }
    pd = [{"network": "x", "handle": "PortAlderPD", "credentials": "X_PD"}]
    chat = await on_accounts(converse, fake_x, **accounts_settings(fake_x, pd, PD, **legacy))
    assert [a.key for a in chat.service.networks.accounts()] == [
        "x:@PortAlderCity",
        "x:@PortAlderPD",
    ]
    assert chat.service.networks.default_account().handle == "PortAlderCity"
    await chat.say("/post Leaf pickup starts Monday.", "/as bob", "/social approve 1")
    await chat.say("/as alice", "/post --to @PortAlderPD Speed checks on Main St.", "/as bob")
    await chat.say("/social approve 2")
    assert [p["text"] for p in fake_x.posts()] == ["Leaf pickup starts Monday."]
    assert [p["text"] for p in fake_x.posts(of="PortAlderPD")] == ["Speed checks on Main St."]
    await chat.close()

    # After a restart each account finds its own stored row: no second lookup.
    again = await on_accounts(converse, fake_x, **accounts_settings(fake_x, pd, PD, **legacy))
    assert [a.key for a in again.service.networks.accounts()] == [
        "x:@PortAlderCity",
        "x:@PortAlderPD",
    ]
    assert len(fake_x.requests_to("GET", "/2/users/me")) == 2


async def test_social_accounts_in_the_sandbox(converse) -> None:
    chat = await converse(user="alice")
    said = unwrapped(await chat.say("/social accounts"))
    accounts = chat.service.networks.accounts()
    assert accounts
    for account in accounts:
        [line] = [line for line in said.splitlines() if f"--to {account.key}" in line]
        assert f"@{account.handle}" in line
        assert "can read" in line and "can publish" in line and "cannot" not in line
        # Where drafts go unless told: the first account, nothing being flagged.
        assert ("· default ·" in line) is (account == accounts[0])
    assert "/social accounts" in await chat.say("/social help")


async def test_social_accounts_says_what_each_account_cannot_do(converse, fake_x: FakeX) -> None:
    accounts: list[dict[str, Any]] = [
        *TWO_ACCOUNTS,
        {"network": "mastodon", "handle": "PortAlderCity@mastodon.social", "credentials": "M"},
    ]
    read_only = {"X_PD_BEARER_TOKEN": PD["X_PD_BEARER_TOKEN"]}
    mastodon = {"M_ACCESS_TOKEN": "mastodon-ZQ7", "M_BASE_URL": "https://mastodon.social"}
    settings = accounts_settings(fake_x, accounts, {**CITY, **read_only, **mastodon})
    chat = await on_accounts(converse, fake_x, **settings)
    said = unwrapped(await chat.say("/as mallory", "/social accounts"))
    lines = said.splitlines()
    [city] = [line for line in lines if "X @PortAlderCity" in line]
    assert "--to x:@PortAlderCity" in city and "default" in city
    assert "1 approval needed" in city
    assert "can read" in city and "can publish" in city and "cannot" not in city
    [pd] = [line for line in lines if "X @PortAlderPD" in line]
    assert "--to x:@PortAlderPD" in pd and "default" not in pd
    assert "2 approvals needed" in pd
    assert "can read" in pd
    assert f"cannot publish: {PD_USER_CONTEXT} not set" in pd
    [toot] = [line for line in lines if "Mastodon @PortAlderCity@mastodon.social" in line]
    assert "no Mastodon adapter yet" in toot and "--to" not in toot
    assert_no_secret(said, {**CITY, **read_only, "M_ACCESS_TOKEN": "mastodon-ZQ7"}, "the list")
    # The read-only account learnt its id with its bearer token alone.
    assert fake_x.requests_to("GET", "/2/users/by/username/PortAlderPD")[0].auth == "bearer"

    said = await chat.say("/as alice", "/post --to x:@PortAlderPD Test.", "/as bob")
    said = unwrapped(await chat.say("/social approve 1", "/as carol", "/social approve 1"))
    assert "X_PD_API_KEY" in said
    assert fake_x.posts(of="PortAlderPD") == []


async def test_another_accounts_keys_never_publish(converse, fake_x: FakeX) -> None:
    """PD's settings hold the city's keys by mistake: said, and nothing is posted."""
    mixed = {**PD, "X_PD_ACCESS_TOKEN": CITY["X_CITY_ACCESS_TOKEN"]}
    mixed["X_PD_ACCESS_TOKEN_SECRET"] = CITY["X_CITY_ACCESS_TOKEN_SECRET"]
    mixed["X_PD_API_KEY"], mixed["X_PD_API_SECRET"] = (
        CITY["X_CITY_API_KEY"],
        CITY["X_CITY_API_SECRET"],
    )
    pd = [{"network": "x", "handle": "PortAlderPD", "credentials": "X_PD"}]
    chat = await on_accounts(converse, fake_x, **accounts_settings(fake_x, pd, mixed))
    said = unwrapped(await chat.say("/social accounts"))
    assert "are the keys of @PortAlderCity, not of @PortAlderPD" in said
    said = unwrapped(await chat.say("/post Test.", "/as bob", "/social approve 1"))
    assert "keys of @PortAlderCity" in said
    assert fake_x.requests_to("POST", "/2/tweets") == []
    assert (await chat.service.core.workflow.get(1)).state is DraftState.FAILED


async def test_doctor_checks_each_account(database_url: str, fake_x: FakeX) -> None:
    credentials = {**CITY, **PD, "X_PD_BEARER_TOKEN": "wrong-bearer"}
    accounts: list[dict[str, Any]] = [
        *TWO_ACCOUNTS,
        {"network": "bluesky", "handle": "portalder.gov", "credentials": "BSKY"},
    ]
    bluesky = {"BSKY_APP_PASSWORD": "bsky-ZQ7"}
    settings = make_settings(
        database_url, **accounts_settings(fake_x, accounts, {**credentials, **bluesky})
    )
    checks = await check_x(settings) + await diagnose(settings)
    assert (
        True,
        "X @PortAlderCity: X_CITY_API_KEY, X_CITY_API_SECRET, X_CITY_ACCESS_TOKEN and "
        "X_CITY_ACCESS_TOKEN_SECRET work: posting as @PortAlderCity (id 1000)",
    ) in checks
    assert (True, "X @PortAlderCity: X_CITY_BEARER_TOKEN works for reading") in checks
    assert (False, "X @PortAlderPD: X_PD_BEARER_TOKEN was refused (HTTP 401)") in checks
    assert any(ok and "posting as @PortAlderPD (id 2000)" in line for ok, line in checks)
    assert (False, "Bluesky account @portalder.gov: no Bluesky adapter yet") in checks
    assert (
        True,
        "accounts configured: x:@PortAlderCity (X_CITY_*), x:@PortAlderPD (X_PD_*)",
    ) in checks
    text = "\n".join(line for _, line in checks)
    assert_no_secret(text, {**credentials, **bluesky}, "doctor's checks")


async def test_doctor_says_an_accounts_keys_are_anothers(fake_x: FakeX) -> None:
    mixed = {**PD, **{f"X_PD_{k[7:]}": v for k, v in CITY.items() if "BEARER" not in k}}
    pd = [{"network": "x", "handle": "PortAlderPD", "credentials": "X_PD"}]
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db", **accounts_settings(fake_x, pd, mixed)
    )
    checks = await check_x(settings)
    assert (
        False,
        "X @PortAlderPD: X_PD_API_KEY, X_PD_API_SECRET, X_PD_ACCESS_TOKEN and "
        "X_PD_ACCESS_TOKEN_SECRET are the keys of @PortAlderCity, not of @PortAlderPD: "
        "set the keys of @PortAlderPD",
    ) in checks


def test_named_credentials_come_from_the_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As every setting: the environment over .env; only the variables the list names."""
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "X_PD_BEARER_TOKEN=from-dotenv\nX_PD_API_KEY=key-from-dotenv\nOTHER_API_KEY=unrelated\n"
    )
    monkeypatch.setenv("CHATOPS_ACCOUNTS", json.dumps(TWO_ACCOUNTS[1:]))
    monkeypatch.setenv("X_PD_BEARER_TOKEN", "from-environment")
    monkeypatch.setenv("ALSO_BEARER_TOKEN", "unrelated-too")
    settings = Settings(_env_file=dotenv)
    [spec] = settings.social_accounts
    assert spec.handle == "PortAlderPD" and spec.required_approvals == 2 and not spec.default
    bearer = settings.credential(spec, "BEARER_TOKEN")
    api_key = settings.credential(spec, "API_KEY")
    assert bearer is not None and bearer.get_secret_value() == "from-environment"
    assert api_key is not None and api_key.get_secret_value() == "key-from-dotenv"
    assert settings.credential(spec, "API_SECRET") is None
    assert sorted(settings.account_credentials) == ["X_PD_API_KEY", "X_PD_BEARER_TOKEN"]
    assert {"from-environment", "key-from-dotenv"} <= set(settings.secret_values())
    assert "unrelated" not in settings.secret_values()
    assert "from-environment" not in repr(settings)
    assert not settings.uses_sandbox and settings.x_configured


def test_only_secrets_are_scrubbed_from_logs() -> None:
    """A Mastodon account's base URL is a setting, not a secret: logs may name it."""
    accounts = [{"network": "mastodon", "handle": "city", "credentials": "M"}]
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db",
        accounts=json.dumps(accounts),
        account_credentials={"M_ACCESS_TOKEN": "tok-ZQ7", "M_BASE_URL": "https://toot.example"},
    )
    assert "tok-ZQ7" in settings.secret_values()
    assert "https://toot.example" not in settings.secret_values()


BAD_ACCOUNTS = {
    "not json": ("[{network: x}]", "CHATOPS_ACCOUNTS is not JSON"),
    "unknown network": (
        '[{"network": "myspace", "handle": "a", "credentials": "X_PD"}]',
        "network 'myspace' is not one I know; use x, mastodon, bluesky",
    ),
    "missing credentials": (
        '[{"network": "x", "handle": "PortAlderPD", "credentials": "X_PDD"}]',
        "x:@PortAlderPD takes its credentials from X_PDD_*, but none of X_PDD_BEARER_TOKEN",
    ),
    "two defaults": (
        '[{"network": "x", "handle": "A", "credentials": "X_PD", "default": true},'
        ' {"network": "x", "handle": "B", "credentials": "X_PD", "default": true}]',
        "x:@A and x:@B are both marked default; mark one only",
    ),
    "an account twice": (
        '[{"network": "x", "handle": "PortAlderPD", "credentials": "X_PD"},'
        ' {"network": "x", "handle": "portalderpd", "credentials": "X_PD"}]',
        "x:@portalderpd is listed twice",
    ),
    "no handle, no way to learn it": (
        '[{"network": "x", "credentials": "X_PD"}]',
        "x (X_PD) has no handle, and without all of X_PD_API_KEY, X_PD_API_SECRET, "
        "X_PD_ACCESS_TOKEN, X_PD_ACCESS_TOKEN_SECRET X cannot tell which account it is; "
        'add its "handle"',
    ),
    "a misspelt key": (
        '[{"network": "x", "handle": "A", "credentials": "X_PD", "requiredApprovals": 2}]',
        "account 1 has unknown key 'requiredApprovals'",
    ),
}


@pytest.mark.parametrize("case", BAD_ACCOUNTS)
def test_a_bad_accounts_setting_is_refused_at_load(case: str) -> None:
    value, expected = BAD_ACCOUNTS[case]
    with pytest.raises(ValidationError) as raised:
        make_settings(
            "sqlite+aiosqlite:///unused.db",
            accounts=value,
            account_credentials={"X_PD_BEARER_TOKEN": "b"},
        )
    [error] = raised.value.errors()
    assert expected in error["msg"]
    assert error["msg"].removeprefix("Value error, ").startswith("CHATOPS_ACCOUNTS")


@pytest.mark.parametrize("case", ["not json", "missing credentials", "two defaults"])
def test_chatops_says_a_bad_accounts_setting_in_one_line(case: str, tmp_path: Path) -> None:
    value, expected = BAD_ACCOUNTS[case]
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    line = one_line(
        run(["doctor"], url, timeout=30, CHATOPS_ACCOUNTS=value, X_PD_BEARER_TOKEN="pd-ZQ7")
    )
    assert line.startswith("chatops: CHATOPS_ACCOUNTS") and expected in line
    assert "pd-ZQ7" not in line
