"""The journal's write lock: exclusive across processes and threads, and free again the
moment a holder is killed (Optuna's lock files make every other writer wait 30 s)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import optuna
import pytest

from store.journal_lock import JournalFlock
from store.storage import open_storage

HOLD = """
import sys, time
from store.journal_lock import JournalFlock
lock = JournalFlock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def free(path: Path) -> bool:
    """Whether another process could take the lock now, without waiting."""
    with open(path, "ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_a_killed_holder_leaves_the_journal_writable_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.journal"
    storage = open_storage(str(path))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not free(path)
        writer = threading.Thread(
            target=optuna.create_study, kwargs={"storage": storage, "study_name": "s"}
        )
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive(), "a write went through while another process held the lock"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        # Optuna's own lock file would stay behind and hold the writer for its 30 s grace.
        writer.join(timeout=15.0)
        assert not writer.is_alive(), "the writer still waits for a dead holder's lock"
    finally:
        holder.kill()
        holder.wait()
    assert free(path)
    assert [s.study_name for s in optuna.get_all_study_summaries(storage)] == ["s"]
    assert not list(tmp_path.glob("*.lock")), "no lock file is left behind"


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    lock = JournalFlock(str(tmp_path / "s.journal"))
    order: list[str] = []
    lock.acquire()
    second = threading.Thread(target=lambda: (lock.acquire(), order.append("second")))
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive(), "a second thread took a lock the first one holds"
    order.append("first")
    lock.release()
    second.join(timeout=10.0)
    assert order == ["first", "second"]
    lock.release()
    assert free(tmp_path / "s.journal")


def test_an_interrupted_acquire_leaves_nothing_held(tmp_path: Path) -> None:
    """Optuna calls release after a failed acquire as well: that must be harmless."""
    lock = JournalFlock(str(tmp_path / "no-such-folder" / "s.journal"))
    with pytest.raises(FileNotFoundError):
        lock.acquire()
    lock.release()
    lock = JournalFlock(str(tmp_path / "s.journal"))
    lock.acquire()
    lock.release()
    assert free(tmp_path / "s.journal")
