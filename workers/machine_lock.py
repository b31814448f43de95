"""One ``pcsearch worker`` per machine, when asked (``PCSEARCH_WORKER_LOCK``).

Two worker containers on one machine (``docker compose --scale worker=N``) share its GPUs
without knowing it: each starts one process per GPU, and the GPUs run out of memory. With
the lock set to a file on a volume that every worker container of the machine mounts, the
first worker holds an exclusive ``flock`` on it for its life (the kernel drops it when the
process dies, however it dies) and every later one is refused in one line.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from workers.errors import WorkerError

_held: list[IO[str]] = []
"""The open lock file: the lock lasts as long as it stays open."""


def hold(path: Path) -> None:
    """Take the machine's worker lock for this process's life, writing ``host:pid`` into
    it; a :class:`WorkerError` (a usage error, exit 2) when another worker holds it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held open for the process's life
    except OSError as error:
        raise WorkerError(
            f"PCSEARCH_WORKER_LOCK={path}: cannot open it ({error.strerror}); point it at a "
            f"file on a writable volume that every worker container of this machine shares"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise WorkerError(
            f"another pcsearch worker ({holder}) already runs on this machine with lock "
            f"{path}; run one worker container per machine (not docker compose --scale "
            f"worker=N) and use --procs for more processes per GPU"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{socket.gethostname()}:{os.getpid()}\n")
    handle.flush()
    _held.append(handle)
