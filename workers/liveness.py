"""Liveness files: how a worker process shows that its main thread still makes progress.

The lease heartbeat is a thread of its own: it keeps beating while the main thread hangs
inside XLA or in a storage call that never returns, so it proves nothing about the work.
Instead the main thread touches a file of its own whenever it makes progress (at start, on
every look for work, after every epoch it reports). ``pcsearch worker --health`` (a
container's healthcheck), the supervisor of ``pcsearch worker --procs N`` and a lone
worker's own watchdog read its age: older than ``PCSEARCH_WORKER_STALE_SECONDS`` is hung.

One folder per machine or container (``PCSEARCH_WORKER_STATE_DIR``), one file per worker
process, named by pid (and by index for a child of a supervisor). A file records its
process's start time too: a container restarted with the same small pids must not take
its previous run's files for its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from store.settings import settings
from workers.errors import WorkerError

_mine: Path | None = None
"""This process's liveness file, once :func:`start` made it; :func:`beat` is a no-op
before (a Worker run inside another program, e.g. a test, leaves no file)."""
_last_beat = time.monotonic()
_file_lock = threading.Lock()
"""Between a beat that writes the file again and :func:`stop` (from the stop watchdog's
thread): without it, a beat's rewrite could land after stop removed the file."""


def state_dir() -> Path:
    """``PCSEARCH_WORKER_STATE_DIR``, else ``$XDG_RUNTIME_DIR/pcsearch-worker``, else a
    folder per user in the temporary folder (a container's own /tmp)."""
    configured = settings().worker_state_dir
    if configured is not None:
        return configured
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "pcsearch-worker"
    return Path(tempfile.gettempdir()) / f"pcsearch-worker-{os.getuid()}"


def file_for(pid: int, index: int | None = None) -> Path:
    name = f"worker-{pid}.json" if index is None else f"worker-{index}-{pid}.json"
    return state_dir() / name


def start(index: int | None = None) -> Path:
    """Make this process's liveness file (fresh); later progress is :func:`beat`."""
    global _mine
    path = file_for(os.getpid(), index)
    try:
        _write(path, index)
    except OSError as error:
        raise WorkerError(
            f"PCSEARCH_WORKER_STATE_DIR={path.parent}: cannot write a liveness file there "
            f"({error.strerror}); point it at a writable folder of this machine or container"
        ) from None
    _mine = path
    beat()
    return path


def beat() -> None:
    """The main thread made progress: touch the file (made again if someone removed it)."""
    global _last_beat
    _last_beat = time.monotonic()
    with _file_lock:
        mine = _mine
        if mine is None:
            return
        try:
            os.utime(mine)
        except FileNotFoundError:
            with contextlib.suppress(OSError):  # a full or read-only disk must not stop work
                _write(mine, _index_of(mine))
        except OSError:
            pass


def seconds_since_beat() -> float:
    return time.monotonic() - _last_beat


def stop() -> None:
    """Remove this process's file (on a clean exit; a killed worker's is swept later)."""
    global _mine
    # A beat writing the file now finishes first (a hung one is not waited for long).
    locked = _file_lock.acquire(timeout=5.0)
    try:
        mine, _mine = _mine, None  # first, so that a later beat does not make it again
    finally:
        if locked:
            _file_lock.release()
    if mine is not None:
        with contextlib.suppress(OSError):
            mine.unlink()


def forget(pid: int, index: int | None = None) -> None:
    """Remove a dead child's file (the supervisor, once it reaped the child)."""
    with contextlib.suppress(OSError):
        file_for(pid, index).unlink()


def age(path: Path) -> float | None:
    """Seconds since the file was last touched; None when there is none."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None


@dataclass(frozen=True)
class Alive:
    """The liveness file of a worker process that runs."""

    pid: int
    index: int | None
    age: float

    @property
    def name(self) -> str:
        return (
            f"worker {self.index} (pid {self.pid})"
            if self.index is not None
            else (f"worker pid {self.pid}")
        )


def survey(folder: Path) -> list[Alive]:
    """The files of live worker processes in ``folder``; files of dead ones are removed."""
    found = []
    for path in sorted(folder.glob("worker-*.json")):
        try:
            record = json.loads(path.read_text())
            pid, index = int(record["pid"]), record.get("index")
            seconds = age(path)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not ours: look again next time
        if seconds is None:
            continue
        if not _runs(pid, record.get("started")):
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        found.append(Alive(pid, index, seconds))
    return found


def health(folder: Path, stale_seconds: float) -> tuple[bool, str]:
    """(healthy, one line): at least one live worker, and none stale."""
    alive = survey(folder) if folder.is_dir() else []
    if not alive:
        return False, f"no pcsearch worker runs here (no liveness file of a live one in {folder})"
    stale = [a for a in alive if a.age > stale_seconds]
    if stale:
        worst = max(stale, key=lambda a: a.age)
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - worst.age))
        return False, (
            f"{worst.name} is stale: no progress since {since} ({worst.age:.0f} s, more than "
            f"PCSEARCH_WORKER_STALE_SECONDS={stale_seconds:g}); {len(stale)} of {len(alive)} stale"
        )
    newest = min(a.age for a in alive)
    return True, f"ok: {len(alive)} worker(s) alive, last progress {newest:.0f} s ago"


def _write(path: Path, index: int | None) -> None:
    """The record, written whole (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": os.getpid(),
        "index": index,
        "host": socket.gethostname(),
        "started": _started(os.getpid()),
    }
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(record))
    os.replace(temporary, path)


def _index_of(path: Path) -> int | None:
    parts = path.stem.split("-")
    return int(parts[1]) if len(parts) == 3 else None


def _started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, Linux); None elsewhere, or for a
    zombie (a dead child its parent has not reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] == "Z" else fields[19]


def _runs(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it runs
    if not Path("/proc/self/stat").exists():
        return True  # not Linux: the pid alone
    return started is not None and _started(pid) == started
