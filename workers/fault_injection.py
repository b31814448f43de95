"""Fault injection: points where a test puts a worker exactly where an accident happens
(a SIGKILL mid-claim, a main thread that hangs, a start barrier for simultaneous starts).
Inert unless the test sets their variable."""

from __future__ import annotations

import os
import signal
import time


def crash_point(name: str) -> None:
    """``PCSEARCH_TEST_CRASH_AT=<name>``: die by SIGKILL at that point (e.g. mid-claim)."""
    if os.environ.get("PCSEARCH_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def hang_point(name: str) -> None:
    """``PCSEARCH_TEST_HANG_AT=<name>``: the main thread sleeps forever at that point (as in
    an XLA call that never returns), while the lease heartbeat thread beats on. With
    ``PCSEARCH_TEST_HANG_ONCE=<file>`` only the first process to get there hangs (it makes
    the file, with its pid): the worker started again in its place goes on."""
    if os.environ.get("PCSEARCH_TEST_HANG_AT") != name:
        return
    marker = os.environ.get("PCSEARCH_TEST_HANG_ONCE")
    if marker:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
    while True:
        time.sleep(3600)


def start_barrier() -> None:
    """``PCSEARCH_TEST_START_AT=<unix time>``: wait until then, so that several processes
    touch the database at the same instant (imports would otherwise stagger them)."""
    at = os.environ.get("PCSEARCH_TEST_START_AT")
    if at:
        while time.time() < float(at):
            time.sleep(0.001)
