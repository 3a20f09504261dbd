"""The `chatops` command as admins and the Procfile run it, in real subprocesses."""

from __future__ import annotations

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

from chatops.storage.database import head_revision
from tests.conftest import scratch_postgres

CHATOPS = str(Path(sys.executable).with_name("chatops"))
ACCEPTANCE = [
    "/post Road closure on Main St tonight 8pm-6am. Detour via Oak Ave.",
    "/as bob",
    "/react 1 white_check_mark",
    "/social queue",
]


def run(
    args: list[str], url: str, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "X_", "TEAMS_", "CHATOPS_"))
    }
    env["DATABASE_URL"] = url
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
    assert "blocking: The text is 300/280 characters" in long.stdout


def test_check_refuses_text_too_long_to_be_a_post_at_once() -> None:
    """Before, 6,000 characters of dotted words kept `chatops check` busy for 40 s."""
    started = time.monotonic()
    refused = run(["check", "a." * 3000], "sqlite+aiosqlite:///unused.db", timeout=30)
    assert time.monotonic() - started < 15  # the interpreter's start-up included
    assert refused.returncode == 2
    assert "The text is 6,000 characters; drafts can be at most 2,000" in refused.stderr


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
    assert exported.stdout.startswith("id,at,actor,platform,channel,action,draft_id,details")
    assert [(r["action"], r["actor"], r["at"]) for r in rows] == [
        (e["action"], e["actor"], e["at"]) for e in events
    ]
    future = run(["audit", "export", "--format", "jsonl", "--since", "2099-01-01"], empty_database)
    assert future.stdout == ""


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
        assert body == {"status": "ok", "checks": {"network": "sandbox", "database": "ok"}}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""


def test_demo_console_shows_alerts(empty_database: str, backend: str) -> None:
    if backend == "postgres":
        run(["db", "upgrade"], empty_database)
    result = run(["console", "--user", "alice"], empty_database, "/alerts list\n")
    assert result.returncode == 0, result.stderr
    assert "Demo feed on" in result.stdout
    assert "┌─ Mention on Sandbox [SANDBOX]" in result.stdout
    assert "Why: matched" in result.stdout
