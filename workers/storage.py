"""Opening Optuna storages from a URL, and a lock to hand out trial slots exactly.

- ``postgresql+psycopg2://...`` (the service): RDB storage with heartbeats, so trials of
  a crashed worker are failed and retried; the slot lock is a Postgres advisory lock.
- a path ending in ``.journal`` (or ``journal:///path``, the embedded default): Optuna's
  journal file, safe with several local processes writing at once; the lock is a file lock.
- ``sqlite:///path.db``: accepted, but SQLite serialises writers and may report "database is
  locked" under several workers; prefer a journal file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

import optuna
import sqlalchemy

from workers.errors import WorkerError

DEFAULT_STORAGE = "pcsearch.journal"
HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120


def journal_path(url: str) -> Path | None:
    if url.startswith("journal:///"):
        return Path(url.removeprefix("journal://"))
    if "://" not in url:
        return Path(url)
    return None


def open_storage(url: str) -> optuna.storages.BaseStorage:
    path = journal_path(url)
    if path is not None:
        if path.suffix not in (".journal", ".log"):
            raise WorkerError(
                f"storage {url!r} is neither a URL nor a .journal file; give e.g. "
                f"pcsearch.journal, sqlite:///studies.db or postgresql+psycopg2://user@host/db"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(
            str(path), lock_obj=optuna.storages.journal.JournalFileOpenLock(str(path))
        )
        return optuna.storages.JournalStorage(backend)
    if url.startswith(("postgresql", "mysql")):
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs={"pool_pre_ping": True},
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=3
            ),
        )
    if url.startswith("sqlite"):
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    raise WorkerError(
        f"storage {url!r} is not supported; use a .journal file path, sqlite:///FILE or "
        f"postgresql+psycopg2://USER@HOST/DB"
    )


def dashboard_command(url: str) -> str:
    return f"optuna-dashboard {journal_path(url) or url}"


@contextlib.contextmanager
def slot_lock(url: str, study_name: str) -> Iterator[None]:
    """Serialise "is another trial needed? then ask" across every worker of a study."""
    if url.startswith("postgresql"):
        key = int.from_bytes(hashlib.sha256(study_name.encode()).digest()[:8], "big", signed=True)
        engine = _engine(url)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    path = journal_path(url)
    if path is None and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    if path is None:
        yield
        return
    lock_path = path.with_name(path.name + f".{_safe(study_name)}.slots.lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_engines: dict[str, sqlalchemy.engine.Engine] = {}


def _engine(url: str) -> sqlalchemy.engine.Engine:
    if url not in _engines:
        _engines[url] = sqlalchemy.create_engine(url, pool_pre_ping=True, pool_size=1)
    return _engines[url]


def _safe(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]
