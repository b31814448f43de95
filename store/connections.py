"""How many database connections a process holds, and how it waits for a database it cannot
reach yet.

A worker holds at most **two** connections: one for every storage call of its threads
(the main loop, the heartbeat and a stop take turns on it: each call is one short
transaction), and one for the study's slot lock while it claims (an advisory lock lives
on the connection that took it, so it cannot share the storage's). Connections unused for
``PCSEARCH_DB_IDLE_SECONDS`` are closed, so a worker that trains, or waits for work,
mostly holds none. Other processes (the API, the dashboard, commands) keep
``PCSEARCH_DB_POOL_SIZE`` storage connections, as a web server wants. Every connection
carries ``application_name`` "pcsearch ROLE PID" (``... lock`` for the lock's), so
``pg_stat_activity`` shows who holds what.

Opening a storage, a worker waits out transient problems (too many clients, a database
that is starting, a refused or timed-out connection) for as long as it takes, with capped
exponential backoff and jitter and one log line per distinct problem; a malformed URL,
wrong credentials or an unknown database are permanent and end it with a clear message.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
import weakref
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import pool as sa_pool
from sqlalchemy.util import queue as sa_queue

from store.settings import settings

log = logging.getLogger("pcsearch.storage")

WORKER_CONNECTIONS = 2
"""The most connections one worker process holds at once (storage + slot lock); a third,
short-lived, only when a stop gives trials back while a claim holds the lock."""
LOCK_OVERFLOW = 3
"""Extra lock connections while threads of one process lock at once (API requests)."""
FIRST_PAUSE = 0.5
_IDLE_SINCE = "pcsearch_idle_since"

_TRANSIENT = (
    "too many clients",  # 53300: the server's max_connections
    "too many connections",  # 53300: a role's or database's CONNECTION LIMIT; MySQL 1040
    "remaining connection slots are reserved",  # 53300: only superuser slots are left
    "the database system is",  # 57P03: starting up, shutting down, in recovery mode, ...
    "connection refused",
    "network is unreachable",
    "no route to host",
    "timeout expired",
    "timed out",
    "temporary failure in name resolution",
    "server closed the connection unexpectedly",
    "connection reset",
    "could not receive data",
    "can't connect to mysql server",
)
"""Problems that pass: checked first, so "too many connections for role" is not taken for
a problem with the role. Matched on libpq's English text (psycopg2 gives no SQLSTATE for
a failed connection attempt)."""

_PERMANENT = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "access denied",
    "does not exist",  # role or database
    "unknown database",
    "is not permitted to log in",
    "pg_hba.conf",
    "permission denied",
    "could not translate host name",
    "name or service not known",
    "no such file or directory",
    "unable to open database file",
    "invalid dsn",
    "invalid connection option",
    "invalid port",
    "invalid integer value",
)
"""Problems that waiting does not fix: the URL or the credentials are wrong."""


def permanent(problem: str) -> bool:
    """Whether a connection problem (one line, see ``storage.connection_problem``) needs a
    person: wrong URL, credentials or database name. Unknown problems count as transient."""
    lowered = problem.lower()
    if any(marker in lowered for marker in _TRANSIENT):
        return False
    return any(marker in lowered for marker in _PERMANENT)


# --- who holds a connection -----------------------------------------------------------------

_role: str | None = None
"""Set by :func:`mark_worker`; otherwise the role is the command (``pcsearch api`` ...)."""


def mark_worker() -> None:
    """This process is a worker: its connections are named so."""
    global _role
    _role = "worker"


def application_name(suffix: str = "") -> str:
    """``pcsearch ROLE PID[ SUFFIX]`` (63 bytes at most, Postgres's limit)."""
    role = _role or _command()
    return f"pcsearch {role} {os.getpid()}{' ' + suffix if suffix else ''}"[:63]


def _command() -> str:
    """``api``, ``dashboard``, ... for ``pcsearch CMD`` and ``python -m pcsearch_cli.main CMD``."""
    argv = sys.argv
    cli = argv and (
        os.path.basename(argv[0]) == "pcsearch"
        or argv[0].endswith(os.path.join("pcsearch_cli", "main.py"))
    )
    if cli and len(argv) > 1 and not argv[1].startswith("-"):
        return argv[1]
    return os.path.basename(argv[0]) if argv and argv[0] else "python"


# --- pools -------------------------------------------------------------------------------


class IdleClosingPool(sa_pool.QueuePool):
    """A QueuePool whose connections are closed after ``PCSEARCH_DB_IDLE_SECONDS`` unused.

    SQLAlchemy only recycles connections by age; a fleet of mostly training workers needs
    them closed by idleness, or each keeps a server process that nobody uses.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Reaper.watch(self)

    def _do_return_conn(self, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()
        super()._do_return_conn(record)

    def close_idle(self, seconds: float) -> int:
        """Close the pooled connections unused for ``seconds``; returns how many.

        A checkout meanwhile waits for the records put back (milliseconds) or opens a new
        connection, within the pool's limits as ever: a closed record leaves the count
        exactly as a returned overflow connection does.
        """
        now, kept, closed = time.monotonic(), [], 0
        while True:
            try:
                record = self._pool.get(False)
            except sa_queue.Empty:
                break
            if now - record.info.get(_IDLE_SINCE, now) >= seconds:
                try:
                    record.close()
                finally:
                    self._dec_overflow()
                closed += 1
            else:
                kept.append(record)
        for record in kept:
            self._pool.put(record, False)
        return closed


class SharedPool(IdleClosingPool):
    """One connection for all the threads of a worker, taken in turns (each storage call is
    one short transaction): a thread that finds it busy waits for it rather than opening
    another. Only a thread that already holds it may open a second (Optuna's schema check
    nests a connection inside a session); that one is closed when given back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = threading.Lock()
        self._holding = threading.local()

    def _held(self) -> int:
        return getattr(self._holding, "count", 0)

    def _do_get(self) -> Any:
        record = super()._do_get() if self._held() else self._take_turn()
        self._holding.count = self._held() + 1
        return record

    def _do_return_conn(self, record: Any) -> None:
        self._holding.count = max(0, self._held() - 1)
        super()._do_return_conn(record)

    def _take_turn(self) -> Any:
        give_up = time.monotonic() + self._timeout
        while True:
            with self._turn:
                if self.checkedout() < self.size():  # free, or closed when idle: take it
                    return super()._do_get()
            try:  # short waits: a connection closed meanwhile is noticed by the check
                return self._pool.get(True, 0.05)
            except sa_queue.Empty:
                if time.monotonic() >= give_up:
                    raise sa_exc.TimeoutError(
                        f"the worker's storage connection stayed busy for {self._timeout:g} s"
                    ) from None


class _Reaper:
    """One daemon thread per process that closes idle connections of every IdleClosingPool."""

    _pools: weakref.WeakSet[IdleClosingPool] = weakref.WeakSet()
    _lock = threading.Lock()
    _thread: threading.Thread | None = None

    @classmethod
    def watch(cls, pool: IdleClosingPool) -> None:
        with cls._lock:
            cls._pools.add(pool)
            if cls._thread is None or not cls._thread.is_alive():
                cls._thread = threading.Thread(target=cls._run, name="idle-connections")
                cls._thread.daemon = True
                cls._thread.start()

    @classmethod
    def _run(cls) -> None:
        idle = settings().db_idle_seconds
        while True:
            time.sleep(max(0.05, idle / 4))
            for pool in list(cls._pools):
                try:
                    pool.close_idle(idle)
                except Exception:  # a connection that fails to close is gone anyway
                    log.debug("closing idle connections failed", exc_info=True)


def engine_kwargs(url: str, worker: bool) -> dict[str, Any]:
    """Engine settings: a worker's storage gets one connection shared by its threads
    (:class:`SharedPool`), closed when idle; other processes get ``PCSEARCH_DB_POOL_SIZE``
    (+ as many overflow), kept open."""
    size = settings().db_pool_size
    if url.startswith("postgresql"):
        # Keepalives on both ends: a dead host's connections (and the locks they hold) are
        # noticed in about half a minute instead of the kernel's two hours.
        # No pre-ping: a connection that died is seen by the failing call, which is retried
        # on a fresh one (store.resilience), instead of a round trip before every call.
        kwargs: dict[str, Any] = {
            "connect_args": {
                "connect_timeout": 10,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                "-c tcp_keepalives_count=3",
                "application_name": application_name(),
            },
        }
    elif url.startswith("mysql"):
        kwargs = {"pool_recycle": 3600}
    else:
        return {"connect_args": {"timeout": 60}}
    if worker:
        kwargs.update(poolclass=SharedPool, pool_size=1, max_overflow=1)
    else:
        kwargs.update(pool_size=size, max_overflow=size)
    return kwargs


def lock_engine_kwargs(url: str) -> dict[str, Any]:
    """The slot lock's engine: one connection kept while in use, closed when idle; a few
    more only while threads of one process lock at once (a stop during a claim, API
    requests)."""
    kwargs = engine_kwargs(url, worker=True)
    if "poolclass" not in kwargs:  # SQLite: its locks are files
        return kwargs
    kwargs.update(poolclass=IdleClosingPool, max_overflow=LOCK_OVERFLOW)
    if "application_name" in kwargs.get("connect_args", {}):
        kwargs["connect_args"] = {
            **kwargs["connect_args"],
            "application_name": application_name("lock"),
        }
    return kwargs


# --- waiting for a database ------------------------------------------------------------------


class ConnectWait:
    """The pauses between attempts to open a storage: exponential from ``FIRST_PAUSE`` to
    ``PCSEARCH_CONNECT_RETRY_MAX_SECONDS``, each drawn between half and all of its step
    (jitter: a fleet refused at once does not come back at once). With ``forever`` (a
    worker) it never expires and logs one line per distinct problem; otherwise it expires
    after ``PCSEARCH_CONNECT_TIMEOUT_SECONDS`` and stays silent (the caller's error says it).
    """

    def __init__(self, where: str, forever: bool) -> None:
        self.where, self.forever = where, forever
        self.since = time.monotonic()
        self.step = FIRST_PAUSE
        self.seen: set[str] = set()

    def expired(self) -> bool:
        if self.forever:
            return False
        return time.monotonic() - self.since >= settings().connect_timeout_seconds

    def pause(self, problem: str) -> None:
        if self.forever and problem not in self.seen:
            self.seen.add(problem)
            log.warning(
                "cannot connect to storage %s yet: %s; retrying with backoff (up to %g s "
                "apart) until it can",
                self.where,
                problem,
                settings().connect_retry_max_seconds,
            )
        pause = self.step * random.uniform(0.5, 1.0)
        if not self.forever:
            left = settings().connect_timeout_seconds - (time.monotonic() - self.since)
            pause = max(0.0, min(pause, left))
        time.sleep(pause)
        self.step = min(self.step * 2, settings().connect_retry_max_seconds)

    def connected(self) -> None:
        if self.seen:
            log.warning(
                "connected to storage %s after %.1f s", self.where, time.monotonic() - self.since
            )
