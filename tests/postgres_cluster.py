"""A PostgreSQL server of a test's own, for tests that restart or stop the server.

The machine's server is shared by every test (and, with ``pytest -n``, by tests running at
the same time in other processes), so a test that restarts it would fail whatever else is
talking to it. This one is a throwaway cluster in a temporary folder, on a free port, made
with the installed server's own ``initdb`` and ``pg_ctl``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

POSTGRES_ROOT = Path("/usr/lib/postgresql")


def server_bin() -> Path | None:
    """The newest installed server's bin folder (with initdb and pg_ctl), if any."""
    if not POSTGRES_ROOT.is_dir():
        return None
    found = [p / "bin" for p in POSTGRES_ROOT.iterdir() if (p / "bin" / "initdb").exists()]
    return max(found, key=lambda p: int(p.parent.name), default=None)


@dataclass(frozen=True)
class Cluster:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return _run([str(self.bin / "pg_ctl"), "-D", str(self.data), *args], timeout)

    def restart(self) -> subprocess.CompletedProcess:
        """Stop the server (fast: open sessions are ended) and start it again, waiting; its
        options are kept, its log must be named again (else it writes to our pipe)."""
        return self.pg_ctl("restart", "-m", "fast", "-w", "-l", str(self.log))

    @property
    def log(self) -> Path:
        return self.data.parent / "server.log"


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    """As the ``postgres`` user when we are root (the server refuses to run as root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A running cluster (trust auth, user ``postgres``, database ``postgres``), removed after."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError(f"no PostgreSQL server under {POSTGRES_ROOT} (initdb, pg_ctl)")
    root = Path(tempfile.mkdtemp(prefix="pcsearch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    cluster = Cluster(bin_dir, data, port)
    try:
        made = _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                     "--no-sync"], 120)  # fmt: skip
        assert made.returncode == 0, made.stderr
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = cluster.pg_ctl("start", "-w", "-o", options, "-l", str(cluster.log))
        assert started.returncode == 0, started.stderr + cluster.log.read_text()
        yield cluster
    finally:
        cluster.pg_ctl("stop", "-m", "immediate", timeout=60)
        shutil.rmtree(root, ignore_errors=True)
