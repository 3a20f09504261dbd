"""Secrets never appear in logs, or in anything else the bot prints.

Settings carry known fake secrets (Slack, Teams, X and, on PostgreSQL, a database password).
Logging is configured as `chatops` does it (`configure_logging` with the settings' secret
values; the standard library routed through structlog to the same stream), then full
scenarios run against the fake Slack, Teams connector and X servers, success and failure
paths alike. Finally the captured output is searched for every secret, raw and encoded.
The `chatops` command is also run as a subprocess (`doctor`, `console`) with the secrets in
its environment, and its stdout and stderr are searched the same way.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import structlog
from sqlalchemy.engine import make_url

from adapters.social.x.limits import EndpointLimits
from adapters.social.x.network import XNetwork
from chatops.domain.types import DraftState
from chatops.listening.pollers import MentionPoller
from chatops.runtime.logs import configure_logging
from chatops.runtime.settings import Settings
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import message_activity
from tests.fakes.x import FakeX
from tests.harness import Conversation, make_settings
from tests.slack_harness import (
    ADMIN,
    APPROVER,
    AUTHOR,
    SIGNING_SECRET,
    STRANGER,
    SlackDriver,
    eventually,
)

CHATOPS = str(Path(sys.executable).with_name("chatops"))
FORM = "application/x-www-form-urlencoded"
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
POSTGRES_ADMIN_DSN = os.environ.get(
    "CHATOPS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)

# The known fake secrets, by the environment variable that carries each one. The signing
# secret is the harness's, so its signed requests are accepted.
SECRETS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-ZQ7botTOKENsecret",
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_CLIENT_SECRET": "ZQ7clientSECRETvalue-3c2b",
    "TEAMS_APP_PASSWORD": "ZQ7teams~PASSWORD.secret_9d",
    "X_BEARER_TOKEN": "AAAAAAAAZQ7bearerSECRET%2Bx%3Dy",
    "X_API_KEY": "ZQ7consumerKEYsecret",
    "X_API_SECRET": "ZQ7consumerSECRETvalue",
    "X_ACCESS_TOKEN": "1000-ZQ7accessTOKENsecret",
    "X_ACCESS_TOKEN_SECRET": "ZQ7accessSECRETvalue",
}
SLACK_APP_TOKEN = "xapp-1-A0001-ZQ7appTOKENsecret"  # Socket Mode: only in the doctor's run
DATABASE_PASSWORD = "ZQ7databasePASSWORDsecret"
TEAMS_APP_ID = "11111111-2222-3333-4444-555555555555"


def forms_of(secret: str) -> set[str]:
    """The ways a secret could be written out: as is, URL-encoded, JSON-escaped."""
    return {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}


def assert_no_secret(text: str, secrets: Mapping[str, str], where: str) -> None:
    leaked = sorted(
        name for name, secret in secrets.items() if any(f in text for f in forms_of(secret))
    )
    assert not leaked, f"{', '.join(leaked)} appeared in {where}"


# -- in-process scenarios ---------------------------------------------------------------------


@pytest.fixture(params=["app levels", "libraries at DEBUG"])
def capture_logs(request: pytest.FixtureRequest) -> Iterator[Callable[[Settings], io.StringIO]]:
    """Configure logging as `chatops` does, into a buffer; restore the previous set-up after.

    `configure_logging` keeps the standard library at WARNING; the second variant lowers it
    to DEBUG as someone debugging a library would, so the libraries' request logs (tweepy
    logs its Authorization header) must be scrubbed too."""
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level

    def configure(settings: Settings) -> io.StringIO:
        buffer = io.StringIO()
        configure_logging(level="DEBUG", secrets=settings.secret_values(), stream=buffer)
        if request.param == "libraries at DEBUG":
            root.setLevel(logging.DEBUG)
        return buffer

    yield configure
    structlog.configure(**saved_structlog)
    root.handlers = saved_handlers
    root.setLevel(saved_level)


def with_database_password(database_url: str) -> tuple[str, dict[str, str]]:
    """On PostgreSQL, a password in the URL (the test server trusts local connections, so it
    is accepted whatever it is); SQLite URLs cannot carry one."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return database_url, {}
    password = url.password or DATABASE_PASSWORD
    rendered = url.set(password=password).render_as_string(hide_password=False)
    return rendered, {"DATABASE_URL password": str(password)}


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    """The fake X API, accepting exactly the known fake credentials."""
    async with FakeX(
        bearer_token=SECRETS["X_BEARER_TOKEN"],
        consumer_key=SECRETS["X_API_KEY"],
        consumer_secret=SECRETS["X_API_SECRET"],
        access_token=SECRETS["X_ACCESS_TOKEN"],
        access_token_secret=SECRETS["X_ACCESS_TOKEN_SECRET"],
    ) as fake:
        yield fake


@pytest.fixture
async def secret_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=SECRETS["SLACK_BOT_TOKEN"]) as fake:
        yield fake


def secret_overrides(fake_slack: FakeSlack, fake_x: FakeX) -> dict[str, Any]:
    """Settings with every secret set; the signing secret and bot token are SlackDriver's."""
    return {
        "slack_bot_token": SECRETS["SLACK_BOT_TOKEN"],
        "slack_signing_secret": SECRETS["SLACK_SIGNING_SECRET"],
        "slack_client_secret": SECRETS["SLACK_CLIENT_SECRET"],
        "slack_api_base_url": fake_slack.base_url,
        "teams_app_id": TEAMS_APP_ID,
        "teams_app_password": SECRETS["TEAMS_APP_PASSWORD"],
        "teams_tenant_id": "tenant-1",
        "x_bearer_token": SECRETS["X_BEARER_TOKEN"],
        "x_api_key": SECRETS["X_API_KEY"],
        "x_api_secret": SECRETS["X_API_SECRET"],
        "x_access_token": SECRETS["X_ACCESS_TOKEN"],
        "x_access_token_secret": SECRETS["X_ACCESS_TOKEN_SECRET"],
        "x_api_base_url": fake_x.base_url,
        "x_timeout_seconds": 2,
    }


def fast_x(service: Any) -> None:
    network = service.social
    assert isinstance(network, XNetwork)
    network.backoff = 0.01
    network.limits = EndpointLimits(jitter=0)


def mention_poller(service: Any) -> MentionPoller:
    return MentionPoller(
        db=service.db,
        social=service.social,
        pipeline=service.pipeline,
        source="x:mentions",
        batch_size=10,
        notifier=service.notifier,
    )


def log_canaries(secrets: Mapping[str, str]) -> None:
    """Log every secret on purpose, through structlog and through the standard library
    (with a traceback): proof that the scrubber is on both paths, whatever the bot logs."""
    everything = " ".join(secrets.values())
    structlog.get_logger("tests.secret_leaks").warning("canary_structlog", detail=everything)
    try:
        raise RuntimeError(f"canary error {everything}")
    except RuntimeError:
        logging.getLogger("tests.secret_leaks").exception("canary_stdlib %s", dict(secrets))


def assert_canaries_redacted(output: str) -> None:
    canaries = [json.loads(line) for line in output.splitlines() if '"canary_' in line]
    assert {c["event"].split()[0] for c in canaries} == {"canary_structlog", "canary_stdlib"}
    for canary in canaries:
        assert "[redacted]" in json.dumps(canary), canary
    assert any("canary error [redacted]" in c.get("exception", "") for c in canaries)


async def draft_state(service: Any, draft_id: int) -> DraftState:
    return (await service.core.workflow.get(draft_id)).state


async def test_slack_teams_and_x_scenario_never_logs_a_secret(
    database_url: str,
    secret_slack: FakeSlack,
    fake_x: FakeX,
    capture_logs: Callable[[Settings], io.StringIO],
) -> None:
    url, database_secret = with_database_password(database_url)
    overrides = secret_overrides(secret_slack, fake_x)
    settings = make_settings(url, **overrides)
    secrets = {**SECRETS, **database_secret}
    assert set(settings.secret_values()) == set(secrets.values())
    logs = capture_logs(settings)

    slack = await SlackDriver.start(secret_slack, url, **overrides)
    fast_x(slack.service)
    try:
        # A draft, a refusal by command (own draft) and by button (no role), a forged request.
        assert (await slack.command("/post", "Road closure on Main St tonight.")).status == 200
        card = await slack.card_ts(1)
        await slack.command("/social", "approve 1", user=AUTHOR)
        await slack.click("draft_approve", slack.button_value(1), STRANGER, card)
        forged = await slack.post(urlencode({"command": "/post", "text": "x"}), FORM, secret="no")
        assert forged.status == 401

        # Slack refuses the token while a card is posted: the command's failure path.
        secret_slack.fail("chat.postMessage", "invalid_auth")
        answered = len(slack.responses())
        await slack.command("/post", "Second post, whose card cannot be posted.")

        async def second_answered() -> bool:
            return len(slack.responses()) > answered

        await eventually(second_answered)

        # ...and while a card is updated after an approval: the notifier's failure path.
        secret_slack.fail("chat.update", "invalid_auth")
        await slack.click("draft_approve", slack.button_value(1), APPROVER, card)

        async def approved() -> bool:
            return await draft_state(slack.service, 1) is DraftState.APPROVED

        await eventually(approved)
        await secret_slack.wait_for("chat.update")

        # Publishing through X with OAuth 1.0a (signed with the four X secrets).
        await slack.service.publisher.run_once()
        assert await draft_state(slack.service, 1) is DraftState.PUBLISHED

        # X refuses a publication: the publisher's failure path.
        await slack.command("/post", "Third post, which X refuses.")
        third = await slack.card_ts(3)
        await slack.click("draft_approve", slack.button_value(3), APPROVER, third)

        async def third_approved() -> bool:
            return await draft_state(slack.service, 3) is DraftState.APPROVED

        await eventually(third_approved)
        fake_x.unauthorized("/2/tweets", times=10)
        await slack.service.publisher.run_once()
        assert await draft_state(slack.service, 3) is not DraftState.PUBLISHED

        # X refuses the bearer token while listening; the admin DM fails too.
        fake_x.unauthorized("/2/users/1000/mentions")
        secret_slack.fail("chat.postMessage", "invalid_auth")
        await mention_poller(slack.service).poll_once()

        # A body bolt cannot parse (answered 500 today, see test_hostile_input.py).
        await slack.post("payload=%7Bnot-json", FORM)

        # Teams with an app id and password: requests without a valid token are refused.
        activity = message_activity("post Sneaky", service_url="http://127.0.0.1:9/")
        for headers in ({}, {"Authorization": "Bearer not.a.jwt"}):
            answer = await slack.client.post("/api/messages", json=activity, headers=headers)
            assert answer.status == 401
    finally:
        await slack.close()

    log_canaries(secrets)
    output = logs.getvalue()
    for event in ("command_done", "command_refused", "published", "publish_failed"):
        assert event in output, f"{event} was not logged"
    assert "poller_stopped" in output and "invalid_auth" in output
    assert_canaries_redacted(output)
    assert_no_secret(output, secrets, "the logs")
    # Nor in anything the bot said to Slack.
    assert_no_secret(json.dumps([c.args for c in secret_slack.calls]), secrets, "Slack messages")


async def test_console_publish_loop_never_logs_or_prints_a_secret(
    database_url: str,
    secret_slack: FakeSlack,
    fake_x: FakeX,
    capture_logs: Callable[[Settings], io.StringIO],
) -> None:
    url, database_secret = with_database_password(database_url)
    overrides = secret_overrides(secret_slack, fake_x)
    secrets = {**SECRETS, **database_secret}
    logs = capture_logs(make_settings(url, **overrides))
    chat = await Conversation.start(url, user="alice", now=START, **overrides)
    fast_x(chat.service)
    try:
        said = await chat.say(
            "/post Sandbags are available at Pier 3 until 8pm.",
            "/social approve 1",
            "/as bob",
            "/react 1 white_check_mark",
        )
        assert "you cannot approve it yourself" in said
        said += await chat.tick()
        assert "Live post: https://x.com/PortAlderCity/status/" in said
        fake_x.unauthorized("/2/tweets", times=10)
        said += await chat.say("/as alice", "/post A post X refuses.", "/as bob", "/react 2 +1")
        said += await chat.tick()
        said += await chat.say(
            "/reply https://x.com/someone/status/1234567890 Thanks for flagging this.",
            "/social queue",
            "/social audit",
            "/social roles",
            "/social help",
        )
        fake_x.unauthorized("/2/users/1000/mentions")
        await mention_poller(chat.service).poll_once()
    finally:
        await chat.close()
    log_canaries(secrets)
    output = logs.getvalue()
    assert "published" in output and "publish_failed" in output and "poller_stopped" in output
    assert_canaries_redacted(output)
    assert_no_secret(output, secrets, "the logs")
    assert_no_secret(said, secrets, "the console")


# -- the `chatops` command as a subprocess ------------------------------------------------------


def command_environment(database_url: str, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_", "DATABASE_URL"))
    }
    env.update(SECRETS)
    env.update(
        {
            "DATABASE_URL": database_url,
            "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
            "TEAMS_APP_ID": TEAMS_APP_ID,
            "TEAMS_TENANT_ID": "tenant-1",
            "CHATOPS_LOG_LEVEL": "DEBUG",
            "X_TIMEOUT_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(values)
    return env


async def run_chatops(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    lines: list[str] | None = None,
    until: Callable[[str, str], bool] | None = None,
) -> tuple[int, str, str]:
    """Run `chatops` while this test's fakes keep serving. Lines are typed into stdin, which
    stays open until `until(stdout, stderr)` holds (so the console's background beat runs)."""
    process = await asyncio.create_subprocess_exec(
        CHATOPS,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    assert process.stdin is not None
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}

    async def collect(stream: asyncio.StreamReader | None, into: list[bytes]) -> None:
        assert stream is not None
        while chunk := await stream.read(65536):
            into.append(chunk)

    def text(name: str) -> str:
        return b"".join(chunks[name]).decode("utf-8", "replace")

    readers = [
        asyncio.create_task(collect(process.stdout, chunks["out"])),
        asyncio.create_task(collect(process.stderr, chunks["err"])),
    ]
    try:
        async with asyncio.timeout(90):
            for line in lines or []:
                process.stdin.write((line + "\n").encode())
            await process.stdin.drain()
            while until is not None and process.returncode is None:
                if until(text("out"), text("err")):
                    break
                await asyncio.sleep(0.1)
            process.stdin.close()
            code = await process.wait()
            await asyncio.gather(*readers)
    except TimeoutError:
        process.kill()
        raise AssertionError(f"chatops {args} did not finish: {text('err')[-2000:]}") from None
    return code, text("out"), text("err")


ALL_SECRETS = {
    **SECRETS,
    "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
    "DATABASE_URL password": DATABASE_PASSWORD,
}


async def test_chatops_doctor_never_prints_a_secret(tmp_path: Path) -> None:
    # The fakes know other credentials, so every one of ours is refused.
    async with FakeSlack() as slack, FakeX() as x:
        env = command_environment(
            f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}",
            SLACK_API_BASE_URL=slack.base_url,
            X_API_BASE_URL=x.base_url,
        )
        code, out, err = await run_chatops(["-v", "doctor"], env, tmp_path)
        assert slack.calls_to("auth.test") and slack.calls_to("apps.connections.open")
        assert x.requests_to("GET", "/2/users")
    assert code == 1, err
    assert "FAIL  Slack: SLACK_BOT_TOKEN was refused (invalid_auth)" in out
    assert "FAIL  Slack: SLACK_APP_TOKEN was refused (invalid_auth)" in out
    assert "were refused (HTTP 401)" in out
    assert "doctor.db does not exist yet" in out  # and doctor did not create it
    assert_no_secret(out, ALL_SECRETS, "doctor's stdout")
    assert_no_secret(err, ALL_SECRETS, "doctor's stderr")


async def test_chatops_doctor_hides_the_database_password(tmp_path: Path) -> None:
    missing = make_url(POSTGRES_ADMIN_DSN).set(
        drivername="postgresql+asyncpg",
        password=DATABASE_PASSWORD,
        database=f"chatops_missing_{uuid.uuid4().hex[:8]}",
    )
    url = missing.render_as_string(hide_password=False)
    env = command_environment(
        url, SLACK_API_BASE_URL="http://127.0.0.1:9/api/", X_API_BASE_URL="http://127.0.0.1:9"
    )
    code, out, err = await run_chatops(["doctor"], env, tmp_path)
    assert code == 1, err
    assert "FAIL  database postgresql+asyncpg://" in out and ":***@" in out
    assert "FAIL  Slack: cannot reach" in out
    assert_no_secret(out, ALL_SECRETS, "doctor's stdout")
    assert_no_secret(err, ALL_SECRETS, "doctor's stderr")


# Found and fixed: `chatops doctor` built the database engine outside its try, so a URL
# SQLAlchemy cannot load (Heroku's postgres://) ended in a traceback, not a FAIL line.
async def test_chatops_doctor_explains_an_unusable_database_url(tmp_path: Path) -> None:
    url = f"postgres://app:{DATABASE_PASSWORD}@127.0.0.1:5432/chatops"
    env = command_environment(
        url, SLACK_API_BASE_URL="http://127.0.0.1:9/api/", X_API_BASE_URL="http://127.0.0.1:9"
    )
    _, out, err = await run_chatops(["doctor"], env, tmp_path)
    try:
        assert "Traceback" not in err, err[-600:]
        assert "FAIL  DATABASE_URL" in out and "is not usable" in out
    finally:
        assert_no_secret(out, ALL_SECRETS, "doctor's stdout")
        assert_no_secret(err, ALL_SECRETS, "doctor's stderr")


async def test_chatops_console_never_prints_a_secret(
    tmp_path: Path, secret_slack: FakeSlack, fake_x: FakeX
) -> None:
    fake_x.unauthorized("/2/users/1000/mentions", times=5)  # the poller's failure path
    env = command_environment(
        f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        SLACK_API_BASE_URL=secret_slack.base_url,
        X_API_BASE_URL=fake_x.base_url,
        X_POLL_SECONDS="0.2",
        CHATOPS_ADMINS=ADMIN,
    )
    lines = [
        "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave.",
        "/social approve 1",
        "/as bob",
        "/react 1 white_check_mark",
        "/reply https://x.com/someone/status/1234567890 Thanks for flagging this.",
        "/social queue",
        "/social audit",
    ]

    def done(out: str, err: str) -> bool:
        return "poller_stopped" in err and "/social audit" in out + err

    code, out, err = await run_chatops(
        ["-v", "console", "--no-demo", "--user", "alice"], env, tmp_path, lines, until=done
    )
    assert code == 0, err[-2000:]
    assert "Live post: https://x.com/PortAlderCity/status/" in out
    assert "you cannot approve it yourself" in out
    assert "poller_stopped" in err, err[-2000:]
    assert secret_slack.calls_to("chat.postMessage"), "the admin was not warned on Slack"
    assert_no_secret(out, ALL_SECRETS, "the console's stdout")
    assert_no_secret(err, ALL_SECRETS, "the console's stderr")


# A password can also be a query parameter (asyncpg and libpq read `password` and libpq
# `sslpassword` there), percent-encoded, or written with a raw `@`, which URL parsers take
# for the end of the user information.
URL_PASSWORD = "ZQ7db@PASS:word"
_AT = "127.0.0.1:5432/{db}"
_ENCODED = quote(URL_PASSWORD, safe="")
PASSWORD_URLS = {
    "query parameter": f"postgresql+asyncpg://postgres@{_AT}?password={_ENCODED}",
    "sslpassword": f"postgresql+asyncpg://postgres@{_AT}?sslmode=prefer&sslpassword={_ENCODED}",
    "percent-encoded": f"postgresql+asyncpg://postgres:{_ENCODED}@{_AT}",
    "raw @ and :": f"postgresql+asyncpg://postgres:{URL_PASSWORD}@{_AT}",
}


@pytest.mark.parametrize("form", list(PASSWORD_URLS))
async def test_chatops_doctor_hides_a_database_password_in_any_form(
    form: str, tmp_path: Path
) -> None:
    url = PASSWORD_URLS[form].format(db=f"chatops_missing_{uuid.uuid4().hex[:8]}")
    env = command_environment(
        url, SLACK_API_BASE_URL="http://127.0.0.1:9/api/", X_API_BASE_URL="http://127.0.0.1:9"
    )
    code, out, err = await run_chatops(["-v", "doctor"], env, tmp_path)
    assert code == 1, err
    assert "postgresql+asyncpg://postgres" in out  # unreachable, or not usable at all
    assert "***" in out
    secrets = {"DATABASE_URL password": URL_PASSWORD, "its first part": "ZQ7db"}
    assert_no_secret(out, secrets, "doctor's stdout")
    assert_no_secret(err, secrets, "doctor's stderr")


@pytest.mark.parametrize("form", list(PASSWORD_URLS))
def test_logs_are_scrubbed_of_a_database_password_in_any_form(
    form: str, capture_logs: Callable[[Settings], io.StringIO]
) -> None:
    url = PASSWORD_URLS[form].format(db="chatops")
    settings = Settings(DATABASE_URL=url)
    logs = capture_logs(settings)
    log_canaries({"password": URL_PASSWORD, "encoded": quote(URL_PASSWORD, safe="")})
    log = structlog.get_logger("tests.secret_leaks")
    log.info("given", url=url)
    log.info("shown", url=settings.database_url_for_display())
    output = logs.getvalue()
    assert_canaries_redacted(output)
    secrets = {"DATABASE_URL password": URL_PASSWORD, "its first part": "ZQ7db"}
    assert_no_secret(output, secrets, "the logs")
    assert_no_secret(settings.database_url_for_display(), secrets, "the URL as displayed")
