"""A PostgreSQL cluster of a test's own: initdb in a temporary folder, on a free port.

A test that restarts its database must not restart the machine's shared server: other
test runs (a developer's, another CI job's) are using it at the same time. This one
belongs to the test alone and is removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")
START_TIMEOUT = 60


class PrivatePostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the cluster would not start."""


def _bin_dir() -> Path:
    configured = os.environ.get("CHATOPS_TEST_PG_BIN")
    if configured:
        return Path(configured)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PrivatePostgresUnavailable("no initdb found (install PostgreSQL's server package)")
    return versions[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivatePostgres:
    """A running cluster: `url` for SQLAlchemy, `restart()` to bounce it."""

    bin_dir: Path
    data_dir: Path
    socket_dir: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=START_TIMEOUT)

    def _pg_ctl(self, action: str) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir}"
        self._run(
            "pg_ctl",
            action,
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            str(START_TIMEOUT),
            "-m",
            "fast",
            "-o",
            options,
            "-l",
            str(self.data_dir / "server.log"),
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        self._pg_ctl("restart")

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-w", "-m", "immediate")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Create, start, yield and finally stop and remove a cluster of this test's own.

    PostgreSQL refuses to run as root, so under root the cluster belongs to the
    `postgres` system user.
    """
    bin_dir = _bin_dir()
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PrivatePostgresUnavailable("running as root and no postgres user") from None
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="chatops-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    if run_as is not None:
        shutil.chown(root, user=run_as)
        shutil.chown(socket_dir, user=run_as)
    cluster = PrivatePostgres(bin_dir, data_dir, socket_dir, _free_port(), run_as)
    try:
        try:
            cluster._run(
                "initdb", "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"
            )
            cluster.start()
        except (OSError, subprocess.SubprocessError) as error:
            raise PrivatePostgresUnavailable(f"{type(error).__name__}: {error}") from error
        yield cluster
    finally:
        with suppress(OSError, subprocess.SubprocessError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
