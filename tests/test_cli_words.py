"""What `chatops` says about itself: its version, each command's help, a blank user refused.
Real subprocesses, as an admin runs them."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

from tests.test_cli import run

NO_DATABASE = "sqlite+aiosqlite:///unused.db"
LISTED = re.compile(r"^ {4}(\w+) +(\S.*)$", re.MULTILINE)


def test_version_is_the_installed_package_version() -> None:
    shown = run(["--version"], NO_DATABASE)
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"chatops {metadata.version('chatops')}"


def _listed(*command: str) -> dict[str, str]:
    """The subcommands `chatops COMMAND --help` lists, with their one-line help."""
    shown = run([*command, "--help"], NO_DATABASE)
    assert shown.returncode == 0, shown.stderr
    return dict(LISTED.findall(shown.stdout))


@pytest.mark.parametrize("parent", [(), ("db",), ("audit",)])
def test_every_subcommand_help_says_what_it_does(parent: tuple[str, ...]) -> None:
    listed = _listed(*parent)
    assert listed, "no subcommands listed"
    for name, summary in listed.items():
        shown = run([*parent, name, "--help"], NO_DATABASE)
        assert shown.returncode == 0, shown.stderr
        usage, _, after = shown.stdout.partition("\n\n")
        assert usage.startswith(f"usage: chatops {' '.join((*parent, name))}")
        description = " ".join(after.split("\n\n", 1)[0].split())
        assert description.lower().rstrip(".") == summary.lower(), (name, shown.stdout)


@pytest.mark.parametrize("user", ["", "   ", "@"])
def test_console_refuses_a_blank_user_in_one_line(user: str, tmp_path: Path) -> None:
    database = tmp_path / "chatops.db"
    refused = run(
        ["console", "--no-demo", "--user", user], f"sqlite+aiosqlite:///{database}", stdin="/quit\n"
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "chatops: --user needs a name. Example: `chatops console --user alice`."
    ]
    assert "Traceback" not in refused.stdout
    assert not database.exists()  # refused before anything was opened
