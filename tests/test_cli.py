"""The `chatops` command as admins and the Procfile run it, in real subprocesses."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatops.storage.database import POSTGRES_CONNECT_TIMEOUT_SECONDS, Database, head_revision
from chatops.storage.drafts import findings_from_json
from chatops.storage.tables import DraftRow
from tests.conftest import scratch_postgres
from tests.harness import unwrapped
from tests.test_records import _as_superuser

CHATOPS = str(Path(sys.executable).with_name("chatops"))
ACCEPTANCE = [
    "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave.",
    "/as bob",
    "/react 1 white_check_mark",
    "/social queue",
]


def run(
    args: list[str], url: str, stdin: str = "", timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
    }
    env["DATABASE_URL"] = url
    env.update(extra)
    return subprocess.run(
        [CHATOPS, *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, as an admin's first deploy would see it."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_postgres("chatops_cli") as url:
        yield url


def test_check_prints_findings_and_exit_status() -> None:
    ok = run(["check", "Sandbags at Pier 3 until 8pm."], "sqlite+aiosqlite:///unused.db")
    assert ok.returncode == 0
    assert "29/280 characters on x." in ok.stdout
    assert "No findings" in ok.stdout
    long = run(["check", "x" * 300], "sqlite+aiosqlite:///unused.db")
    assert long.returncode == 1
    assert "blocking [too_long]: The text is 300/280 characters" in long.stdout


def test_check_refuses_text_too_long_to_be_a_post_at_once() -> None:
    """Before, 6,000 characters of dotted words kept `chatops check` busy for 40 s."""
    started = time.monotonic()
    refused = run(["check", "a." * 3000], "sqlite+aiosqlite:///unused.db", timeout=30)
    assert time.monotonic() - started < 15  # the interpreter's start-up included
    assert refused.returncode == 2
    assert "The text is 6,000 characters; drafts can be at most 2,000" in refused.stderr


CHECKED = "Boil water notice for Oak Ave: details at https://example.com/notice"
AGENCY = {"CHATOPS_LINK_ALLOWLIST": "portalder.gov"}


def run_with(
    settings: dict[str, str], args: list[str], url: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`run`, with some CHATOPS_ settings kept."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
    }
    env |= {"DATABASE_URL": url, **settings}
    return subprocess.run(
        [CHATOPS, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


def stored_findings(url: str) -> list[str]:
    """Draft 1's findings as its card shows them, `severity [code]: message`."""

    async def read() -> list[str]:
        db = Database(url)
        try:
            async with db.transaction() as session:
                row = await session.get(DraftRow, 1)
                assert row is not None
                found = findings_from_json(row.findings)
        finally:
            await db.dispose()
        return [f"{f.severity.value} [{f.code}]: {f.message}" for f in found]

    return asyncio.run(read())


def check_findings(check_out: str) -> list[str]:
    """`chatops check`'s findings, `severity [code]: message`."""
    return [line.removeprefix("- ") for line in check_out.splitlines() if line.startswith("- ")]


def test_check_sees_the_sensitive_terms_and_allow_list_the_card_sees(
    empty_database: str,
) -> None:
    """Before, `chatops check` read neither and said "No findings" where the card warned."""
    assert run(["db", "upgrade"], empty_database).returncode == 0
    console = run_with(
        AGENCY,
        ["console", "--user", "alice", "--no-demo"],
        empty_database,
        '/social terms add "boil water" --reason "Only the water bureau announces it" --warn\n'
        f"/post {CHECKED}\n",
    )
    assert console.returncode == 0, console.stderr
    on_card = stored_findings(empty_database)
    assert [f.split(":")[0] for f in on_card] == [
        "warning [sensitive_term]",
        "warning [unapproved_link]",
    ]
    shown = unwrapped(console.stdout)
    assert all(f.split(": ", 1)[1] in shown for f in on_card), console.stdout

    checked = run_with(AGENCY, ["check", CHECKED], empty_database)
    assert checked.returncode == 0, checked.stderr
    assert check_findings(checked.stdout) == on_card
    assert "could not be read" not in checked.stdout
    assert checked.stderr == ""


def test_check_without_a_readable_database_uses_the_settings_and_says_so(
    tmp_path: Path, empty_database: str, backend: str
) -> None:
    """One line says the terms were not read; the settings' rules still apply; no traceback,
    and no database file left behind."""
    if backend == "sqlite":
        Path(empty_database.removeprefix("sqlite+aiosqlite:///")).touch()  # no tables
    missing = tmp_path / "nowhere.db"
    unreachable = "postgresql+asyncpg://chatops:secret@127.0.0.1:1/chatops"
    for url, why in [
        (f"sqlite+aiosqlite:///{missing}", f"there is no database file at {missing}"),
        (empty_database, "its schema is out of date: run `chatops db upgrade`"),
        (unreachable, "is unreachable ("),
    ]:
        checked = run_with(AGENCY, ["check", CHECKED], url)
        assert checked.returncode == 0, checked.stderr
        assert checked.stderr == ""
        first = checked.stdout.splitlines()[0]
        assert first.startswith(
            "The agency's sensitive terms and the public contacts added in chat could not be read ("
        )
        assert why in first and "secret" not in first
        assert check_findings(checked.stdout) == [
            "warning [unapproved_link]: A link goes to example.com, which is not one of the "
            "agency's approved sites."
        ]
    assert not missing.exists()


HOTLINE = "Sandbag hotline: call (503) 823-4000 or write to info@portalder.gov"


def test_check_knows_the_agencys_public_contacts_from_the_settings(tmp_path: Path) -> None:
    """Before, the agency's own hotline and address were blocking personal data."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
    contacts = {"CHATOPS_PUBLIC_CONTACTS": "+1 503 823 4000, portalder.gov"}
    checked = run_with(contacts, ["check", HOTLINE], url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No findings: this text can be approved." in checked.stdout
    other = run_with(contacts, ["check", "Call 503-823-4001 or write to jo@example.org"], url)
    assert other.returncode == 1
    assert [f.split(":")[0] for f in check_findings(other.stdout)] == [
        "blocking [personal_phone]",
        "blocking [personal_email]",
    ]


def test_check_sees_the_contacts_added_in_chat_as_the_card_does(empty_database: str) -> None:
    assert run(["db", "upgrade"], empty_database).returncode == 0
    text = "Flood desk: 503-555-0142, floods@countyoem.org"
    before = run(["check", text], empty_database)
    assert before.returncode == 1
    console = run(
        ["console", "--user", "alice", "--no-demo"],
        empty_database,
        f"/social contacts add 503-555-0142\n/social contacts add countyoem.org\n/post {text}\n",
    )
    assert console.returncode == 0, console.stderr
    assert stored_findings(empty_database) == []
    after = run(["check", text], empty_database)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "No findings" in after.stdout and "could not be read" not in after.stdout


def test_public_contacts_that_are_not_contacts_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    line = one_line(run(["check", "hi"], url, CHATOPS_PUBLIC_CONTACTS="503-823-40"))
    assert "CHATOPS_PUBLIC_CONTACTS: '503-823-40' is not a phone number" in line
    assert "e.g. '503-823-4000, info@portalder.gov, portalder.gov'" in line


def test_acceptance_transcript_and_audit_export(empty_database: str, backend: str) -> None:
    if backend == "postgres":
        assert run(["db", "upgrade"], empty_database).returncode == 0
    result = run(
        ["console", "--user", "alice", "--no-demo"], empty_database, "\n".join(ACCEPTANCE) + "\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Post draft 1" in out and "Author: alice" in out
    assert "Draft 1 approved by bob" in out
    assert "Live post: https://sandbox.invalid/PortAlderCity/status/sbp-1" in out
    assert out.rstrip().endswith(
        "The queue is empty: nothing is waiting for approval or publication."
    )

    jsonl = run(["audit", "export", "--format", "jsonl"], empty_database)
    assert jsonl.returncode == 0, jsonl.stderr
    events = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("created", "alice"),
        ("approval", "bob"),
        ("approved", "bob"),
        ("publishing", "chatops"),
        ("published", "chatops"),
    ]
    assert all(e["at"] and e["draft_id"] == 1 for e in events)
    assert events[-1]["details"]["url"].startswith("https://sandbox.invalid/")

    exported = run(["audit", "export", "--format", "csv"], empty_database)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert exported.stdout.startswith(
        "id,at,actor,platform,channel,action,draft_id,details,seq,prev_hash,hash"
    )
    assert [(r["seq"], r["prev_hash"], r["hash"]) for r in rows] == [
        (str(e["seq"]), e["prev_hash"], e["hash"]) for e in events
    ]
    assert [(r["action"], r["actor"], r["at"]) for r in rows] == [
        (e["action"], e["actor"], e["at"]) for e in events
    ]
    future = run(["audit", "export", "--format", "jsonl", "--since", "2099-01-01"], empty_database)
    assert future.stdout == ""


def test_audit_verify_prints_the_head_then_names_a_forged_event(
    empty_database: str, backend: str
) -> None:
    if backend == "postgres":
        assert run(["db", "upgrade"], empty_database).returncode == 0
    run(["console", "--user", "alice", "--no-demo"], empty_database, "\n".join(ACCEPTANCE))
    last = json.loads(
        run(["audit", "export", "--format", "jsonl"], empty_database).stdout.split("\n")[-2]
    )
    intact = run(["audit", "verify"], empty_database)
    assert (intact.returncode, intact.stderr) == (0, "")
    assert intact.stdout == (
        f"Audit chain intact: 5 events; head #5 {last['hash']} (keep it elsewhere to check "
        "later).\n"
    )
    assert run(["audit", "verify", "--anchor", last["hash"]], empty_database).returncode == 0

    forged = 'UPDATE audit_events SET details = \'{"text": "Nothing to see."}\' WHERE seq = 2'
    asyncio.run(_as_superuser_at(empty_database, forged))
    broken = run(["audit", "verify"], empty_database)
    assert broken.returncode == 1
    assert broken.stdout == (
        "Audit chain BROKEN at event #2 (id 2, approval): "
        "its content changed after it was recorded.\n"
    )


async def _as_superuser_at(url: str, statement: str) -> None:
    db = Database(url)
    try:
        await _as_superuser(db, statement)
    finally:
        await db.dispose()


def test_self_approval_refused_through_the_cli(empty_database: str, backend: str) -> None:
    if backend == "postgres":
        run(["db", "upgrade"], empty_database)
    lines = [ACCEPTANCE[0], "/as alice", "/react 1 white_check_mark", "/social queue"]
    out = run(["console", "--user", "alice", "--no-demo"], empty_database, "\n".join(lines)).stdout
    assert "you cannot approve it yourself" in out
    assert "#1 [pending, 0/1 approvals]" in out
    assert "Published" not in out


def test_out_of_date_schema_is_refused_with_the_command_to_run(
    empty_database: str, backend: str
) -> None:
    if backend == "sqlite":
        # A fresh SQLite file is created by the console itself, but a worker refuses.
        refused = run(["worker"], empty_database)
        assert refused.returncode == 1
        assert "Run `chatops db upgrade` first" in refused.stderr
        return
    refused = run(["console", "--no-demo"], empty_database, "/social queue\n")
    assert refused.returncode == 1
    assert "Run `chatops db upgrade` first" in refused.stderr
    doctor = run(["doctor"], empty_database)
    assert doctor.returncode == 1
    assert "run `chatops db upgrade`" in doctor.stdout
    upgraded = run(["db", "upgrade"], empty_database)
    assert f"upgraded from empty to {head_revision()}" in upgraded.stdout
    assert "up to date" in run(["db", "upgrade"], empty_database).stdout
    healthy = run(["doctor"], empty_database)
    assert healthy.returncode == 0, healthy.stdout
    assert "social network: sandbox" in healthy.stdout


def test_serve_reports_health_and_stops_on_sigterm(empty_database: str, backend: str) -> None:
    if backend == "postgres":
        run(["db", "upgrade"], empty_database)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "TEAMS_"))}
    env["DATABASE_URL"] = empty_database
    server = subprocess.Popen(
        [CHATOPS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.2)
        networks = "sandbox, sandbox-mastodon, sandbox-bluesky"
        assert body == {"status": "ok", "checks": {"network": networks, "database": "ok"}}
        # Bound to every interface: reachable on another loopback address too (the control
        # for the anonymous-Teams test below, which must not be).
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""


def teams_env(url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
    }
    return {**env, "DATABASE_URL": url, "TEAMS_ENABLED": "true", **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_serve_refuses_teams_without_an_identity(tmp_path: Path) -> None:
    """TEAMS_ENABLED=true and no app id would serve /api/messages to anyone: refused."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    refused = subprocess.run(
        [CHATOPS, "serve", "--port", str(free_port()), "--no-workers"],
        env=teams_env(url),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 1, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("chatops: ")
    for name in ("TEAMS_ENABLED", "TEAMS_APP_ID", "TEAMS_ALLOW_ANONYMOUS"):
        assert name in line


def test_anonymous_teams_is_served_on_loopback_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    server = subprocess.Popen(
        [CHATOPS, "serve", "--port", str(port), "--no-workers"],
        env=teams_env(url, TEAMS_ALLOW_ANONYMOUS="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as ok:
                    assert ok.status == 200
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""
    assert server.stderr is not None and "127.0.0.1" in server.stderr.read()


def test_doctor_fails_teams_without_an_identity(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}"
    subprocess.run([CHATOPS, "db", "upgrade"], env=teams_env(url), check=True, timeout=60)

    def doctor(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CHATOPS, "doctor"], env=teams_env(url, **extra), capture_output=True, text=True
        )

    unsafe = doctor()
    assert unsafe.returncode == 1, unsafe.stdout
    [teams] = [line for line in unsafe.stdout.splitlines() if "Teams" in line]
    assert teams.startswith("FAIL") and "TEAMS_ALLOW_ANONYMOUS" in teams
    local = doctor(TEAMS_ALLOW_ANONYMOUS="true")
    assert local.returncode == 0, local.stdout
    assert "127.0.0.1" in next(line for line in local.stdout.splitlines() if "Teams" in line)
    identified = {"TEAMS_APP_ID": "app-id", "TEAMS_APP_PASSWORD": "app-secret"}
    open_to_all = doctor(**identified)
    line = next(line for line in open_to_all.stdout.splitlines() if "Teams" in line)
    assert "any tenant" in line and "TEAMS_TENANT_ID" in line, line
    one_tenant = doctor(**identified, TEAMS_TENANT_ID="tenant-1")
    line = next(line for line in one_tenant.stdout.splitlines() if "Teams" in line)
    assert "only tenant tenant-1" in line and "app-secret" not in one_tenant.stdout, line


def test_demo_console_shows_alerts(empty_database: str, backend: str) -> None:
    if backend == "postgres":
        run(["db", "upgrade"], empty_database)
    result = run(["console", "--user", "alice"], empty_database, "/alerts list\n")
    assert result.returncode == 0, result.stderr
    assert "Demo feed on" in result.stdout
    # The first mentions: a resident's question (the city's own post is not an alert).
    assert "┌─ Question on Sandbox [SANDBOX]" in result.stdout
    assert "From: City of Port Alder" not in result.stdout
    assert "Why: matched" in result.stdout


UNREACHABLE = "postgresql+asyncpg://u@127.0.0.1:1/x"  # nothing listens on port 1


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single `chatops: ...` line a known failure is reported in, with no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("chatops: "), line
    return line


def test_unreadable_business_hours_stop_doctor_in_one_line(tmp_path: Path) -> None:
    """Before, doctor passed them and the console then died of a ValueError."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    line = one_line(run(["doctor"], url, timeout=30, CHATOPS_BUSINESS_HOURS="nonsense"))
    assert "CHATOPS_BUSINESS_HOURS" in line and "'09:00-17:00 mon-fri'" in line


def test_score_weights_that_are_not_json_are_one_line(tmp_path: Path) -> None:
    """Before: a raw SettingsError traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    line = one_line(run(["doctor"], url, timeout=30, CHATOPS_SCORE_WEIGHTS="notjson"))
    assert "CHATOPS_SCORE_WEIGHTS='notjson' is not JSON" in line and '{"urgent": 40' in line


def test_a_misspelt_score_weight_is_refused(tmp_path: Path) -> None:
    """Before, {"reech": 5} was accepted and the default reach weight used unnoticed."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    line = one_line(run(["doctor"], url, timeout=30, CHATOPS_SCORE_WEIGHTS='{"reech": 5}'))
    assert "unknown weight 'reech'" in line and "reach" in line.split("'reech'")[1]


@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["audit", "export"], ["serve", "--no-workers"]]
)
def test_an_unreachable_database_is_one_line(command: list[str]) -> None:
    if command[0] == "serve":
        command = [*command, "--port", str(free_port())]
    line = one_line(run(command, UNREACHABLE, timeout=30))
    assert f"cannot use the database {UNREACHABLE}" in line and "Connect call failed" in line


def test_a_database_that_never_answers_is_one_line_within_the_connect_timeout() -> None:
    """A server that accepts and then says nothing (a firewall, a hung host): before, asyncpg
    waited its own 60 s; now the command gives up after the connect timeout, in one line."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+asyncpg://u@127.0.0.1:{silent.getsockname()[1]}/x"
        started = time.monotonic()
        line = one_line(run(["db", "upgrade"], url, timeout=55))
        waited = time.monotonic() - started
    assert f"cannot use the database {url}" in line and "TimeoutError" in line
    assert waited < POSTGRES_CONNECT_TIMEOUT_SECONDS + 15


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(run(["serve", "--no-workers", "--port", str(port)], url, timeout=30))
    assert f"cannot listen on 0.0.0.0:{port}: address already in use" in line


def test_serve_on_no_such_port_is_a_usage_error(tmp_path: Path) -> None:
    """Before: an OverflowError traceback from bind()."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    refused = run(["serve", "--port", "99999"], url, timeout=30)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "argument --port: '99999' is not a port: use 1 to 65535" in refused.stderr


def test_audit_export_into_a_closed_pipe_is_one_line(tmp_path: Path) -> None:
    """`chatops audit export | head`: before, a BrokenPipeError traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    assert run(["db", "upgrade"], url).returncode == 0
    env = {**os.environ, "DATABASE_URL": url}
    export = subprocess.Popen(
        [CHATOPS, "audit", "export"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert export.stdout is not None and export.stderr is not None
    export.stdout.close()  # the reader has gone before the first line is written
    export.wait(timeout=30)
    result = subprocess.CompletedProcess(export.args, export.returncode, "", export.stderr.read())
    export.stderr.close()
    assert "the output was closed before it was complete" in one_line(result)


def test_doctor_does_not_create_the_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "not-yet.db"
    doctor = run(["doctor"], f"sqlite+aiosqlite:///{database}", timeout=30)
    assert doctor.returncode == 1
    assert not database.exists()
    [line] = [line for line in doctor.stdout.splitlines() if "not-yet.db" in line]
    assert line.startswith("FAIL") and "does not exist yet" in line
    assert "`chatops db upgrade`" in line


def test_doctor_finishes_the_slack_mode_sentence(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}"
    doctor = run(
        ["doctor"],
        url,
        timeout=30,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_BASE_URL="http://127.0.0.1:1/api/",
    )
    [line] = [line for line in doctor.stdout.splitlines() if "SLACK_APP_TOKEN" in line]
    assert line.endswith("(Socket Mode) is set, so no Slack events arrive: set one"), line
