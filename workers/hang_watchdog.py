"""A lone worker's own watchdog: no progress for ``PCSEARCH_WORKER_STALE_SECONDS``, and the
worker gives its trials back and exits, so that its container's restart policy (or
whatever started it) starts it again.

The main thread may hang where nothing in Python can interrupt it (an XLA call, a storage
call that never returns), so the watchdog is a thread that reads how long ago the main
thread last made progress (:mod:`workers.liveness`). A worker run by a supervisor has none:
the supervisor watches its liveness file and restarts it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from workers import liveness
from workers.signals import HARD_DEADLINE

log = logging.getLogger("pcsearch.worker")
HUNG_EXIT = 3
"""The exit status of a worker that ended itself as hung (not 2: a supervisor or a restart
policy must start it again)."""


def install_hang_watchdog(on_stop: Callable[[str], None], stale_seconds: float) -> None:
    """Once the main thread made no progress for ``stale_seconds``, run ``on_stop(reason)``
    in a thread (give the held trials back), then exit with :data:`HUNG_EXIT` (by
    ``HARD_DEADLINE`` at the latest)."""

    def watch() -> None:
        while (idle := liveness.seconds_since_beat()) <= stale_seconds:
            time.sleep(min(5.0, stale_seconds - idle + 0.05))
        log.error(
            "no progress for %.0f s (PCSEARCH_WORKER_STALE_SECONDS=%g): the main thread hangs; "
            "giving its trials back and exiting %d, to be started again",
            idle,
            stale_seconds,
            HUNG_EXIT,
        )
        timer = threading.Timer(HARD_DEADLINE, _exit)
        timer.daemon = True
        timer.start()
        try:
            on_stop(f"its watchdog (no progress for {idle:.0f} s)")
        except BaseException:
            log.exception("giving the trials back failed part-way")
        _exit()

    threading.Thread(target=watch, name="hang-watchdog", daemon=True).start()


def _exit() -> None:
    liveness.stop()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(HUNG_EXIT)
