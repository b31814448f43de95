"""Fault injection: points where a test puts a worker exactly where an accident happens
(a SIGKILL mid-claim, a start barrier for simultaneous starts). Inert unless the test sets
their variable."""

from __future__ import annotations

import os
import signal
import time


def crash_point(name: str) -> None:
    """``PCSEARCH_TEST_CRASH_AT=<name>``: die by SIGKILL at that point (e.g. mid-claim)."""
    if os.environ.get("PCSEARCH_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def start_barrier() -> None:
    """``PCSEARCH_TEST_START_AT=<unix time>``: wait until then, so that several processes
    touch the database at the same instant (imports would otherwise stagger them)."""
    at = os.environ.get("PCSEARCH_TEST_START_AT")
    if at:
        while time.time() < float(at):
            time.sleep(0.001)
