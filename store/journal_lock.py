"""The journal file's write lock: an ``flock`` the kernel drops when its holder dies.

Optuna's own journal locks (a lock file created with ``O_EXCL``, or a symlink) outlive a
writer killed while it holds them: every other process then waits out a 30 s grace period
before it breaks the lock, and a writer that is only slow can have its lock broken under
it. pcsearch's workers are stopped by signals by design (Ctrl-C, preemption, ``kill -9``,
the stop watchdog), so the journal takes an advisory ``flock`` on the journal file itself:
held only while a line is appended, released by the kernel when the process ends however
it ends, and never broken by a timer. Local file systems and NFSv4 (where Linux maps
``flock`` onto the server's byte-range locks) honour it. Readers take no lock, as in Optuna.
"""

from __future__ import annotations

import fcntl
import threading
from typing import IO


class JournalFlock:
    """One writer at a time across processes (the ``flock``) and across the threads of one
    process (a thread lock: a process's storage is shared by its worker threads). It has the
    two methods of Optuna's journal locks, whose base class Optuna does not export."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Blocks until this process holds the lock; always returns True, as Optuna's do."""
        self._thread_lock.acquire()
        try:
            handle = open(self._path, "ab")  # noqa: SIM115 - closed in release()
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                handle.close()
                raise
        except BaseException:
            self._thread_lock.release()
            raise
        self._handle = handle
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:  # Optuna releases after a failed acquire too
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()
            self._thread_lock.release()
