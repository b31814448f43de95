"""Stopping a worker on SIGTERM/SIGINT within seconds, even inside an XLA call.

Python runs signal handlers only between bytecodes of the main thread, so a worker busy
in a compiled epoch or a compilation would notice a SIGTERM minutes later, after the
container runtime's grace period turned it into SIGKILL. Instead the C-level handler
writes the signal to a socket (``signal.set_wakeup_fd``) that a watchdog thread reads:
it runs the worker's stop routine (give back the held trials so they are retried) and
ends the process. Later signals are ignored while it does; a hard deadline ends the
process even if the storage cannot be reached.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("pcsearch.worker")
HARD_DEADLINE = 9.0
_sockets: list[socket.socket] = []
"""Seconds after the first signal by which the process has exited, whatever happens."""


def _ignore(signum: int, frame: Any) -> None:
    """A Python-level handler must exist for the wakeup fd to be written; the watchdog
    does the work, so this does nothing."""


def install_stop_watchdog(on_stop: Callable[[str], None], exit_code: int = 0) -> None:
    """On the first SIGTERM or SIGINT, run ``on_stop(signal name)`` in a thread, then exit
    with ``exit_code`` (by :data:`HARD_DEADLINE` at the latest)."""
    reader, writer = socket.socketpair()
    _sockets[:] = [reader, writer]  # set_wakeup_fd keeps only the number: keep them open
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _ignore)

    def finish() -> None:
        _flush()
        os._exit(exit_code)

    def watch() -> None:
        data = reader.recv(1)
        while data[0] not in (signal.SIGTERM, signal.SIGINT):
            data = reader.recv(1)
        name = signal.Signals(data[0]).name
        timer = threading.Timer(HARD_DEADLINE, finish)
        timer.daemon = True
        timer.start()
        try:
            on_stop(name)
        except BaseException:
            log.exception("stopping on %s failed part-way", name)
        finish()

    threading.Thread(target=watch, name="stop-watchdog", daemon=True).start()


def _flush() -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
