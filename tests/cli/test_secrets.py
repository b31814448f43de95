"""A database password never shows: not in what ``pcsearch search`` and its workers print
or log, and not on any process's command line (which every local user can read)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]
PASSWORD = "pw-Zq81-secret"


def with_password(url: str) -> str:
    return url.replace(
        "postgresql+psycopg2://postgres@", f"postgresql+psycopg2://postgres:{PASSWORD}@"
    )


def descendants(pid: int) -> list[int]:
    """The processes below ``pid``, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def test_search_and_workers_never_show_the_password(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    url = with_password(postgres_url)  # trust auth: any password is accepted
    # Trials of 0.4 s: the workers' command lines are read from their start (imports take
    # longer than that), and the search does not outlast what the test needs to see.
    env = {**os.environ, "PCSEARCH_WORKER_DRY_RUN": "1", "PCSEARCH_DRY_RUN_EPOCH_SECONDS": "0.2"}
    command = [pcsearch_exe, "search", "--task", "mlp-two-moons", "--algorithm", "pc-se",
               "--trials", "4", "--jobs", "2", "--epochs", "2", "--storage", url,
               "--study", "secret"]  # fmt: skip
    search = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: set[str] = set()
    give_up = time.monotonic() + 60
    while search.poll() is None and time.monotonic() < give_up:
        for pid in descendants(search.pid):
            with contextlib.suppress(OSError):
                seen.add((Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " "))
        time.sleep(0.1)
    out, err = search.communicate(timeout=120)
    assert search.returncode == 0, err
    workers = [c for c in seen if " worker " in c]
    assert workers, seen
    assert not [c for c in seen if PASSWORD in c], seen
    logs = "".join(p.read_text() for p in tmp_path.glob("pcsearch-logs/*/*.log"))
    for text in (out, err, logs):
        assert PASSWORD not in text
    assert "postgres:***@" in err  # the banner names the storage, password hidden
    assert "dashboard: PCSEARCH_DATABASE_URL=" in out
