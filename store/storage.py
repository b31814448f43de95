"""Opening Optuna storages from a URL, with locks that hand out trial slots exactly.

- ``postgresql+psycopg2://...`` (the service): an RDB storage; the slot lock is a Postgres
  advisory lock. Schema creation runs under an advisory lock too, so a fleet of workers
  and the API may start together on an empty database.
- ``mysql+pymysql://...``: the same, with MySQL's named locks (``GET_LOCK``).
- a path ending in ``.journal`` (or ``journal:///path``, the embedded default): Optuna's
  journal file, safe with several local processes writing at once; its write lock is an
  ``flock`` the kernel drops when a writer dies (:mod:`store.journal_lock`).
- ``sqlite:///path.db``: accepted, but SQLite serialises writers and may report "database is
  locked" under several workers; prefer a journal file.

Every storage is wrapped in :class:`store.resilience.ResilientStorage`. No URL is ever
shown with its password: :func:`redact` and :func:`scrub` are for every message. How many
connections a process holds, and how a worker waits for a database it cannot reach yet:
:mod:`store.connections`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import sqlalchemy
import sqlalchemy.exc
from sqlalchemy.engine import make_url

from store.connections import (
    ConnectWait,
    engine_kwargs,
    lock_engine_kwargs,
    mark_worker,
    permanent,
)
from store.errors import StoreError
from store.journal_lock import JournalFlock
from store.resilience import ResilientStorage, is_transient, remaining, retry
from store.settings import settings

DEFAULT_STORAGE = "pcsearch.journal"
SCHEMA_LOCK = "pcsearch schema"


class LockLost(StoreError):
    """The connection holding a slot lock died while the lock was held."""


def storage_url(given: str | None, default: str | None = None) -> str:
    """``--storage``, else ``$PCSEARCH_DATABASE_URL``, else ``default``."""
    url = given or settings().database_url or default
    if not url:
        raise StoreError(
            "no storage given; pass --storage postgresql+psycopg2://USER@HOST/DB (or a "
            ".journal file) or set PCSEARCH_DATABASE_URL"
        )
    return url


def journal_path(url: str) -> Path | None:
    if url.startswith("journal:///"):
        return Path(url.removeprefix("journal://"))
    if "://" not in url:
        return Path(url)
    return None


def is_rdb(url: str) -> bool:
    return url.startswith(("postgresql", "mysql", "sqlite"))


def redact(url: str) -> str:
    """The URL as it may be shown: any password replaced by ``***``."""
    if journal_path(url) is not None:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<a storage URL that could not be parsed>"


def scrub(text: str, url: str | None = None) -> str:
    """``text`` with the password of ``url`` (and of the configured URL) removed."""
    for candidate in (url, _configured_url()):
        password = _password(candidate)
        if password:
            text = text.replace(password, "***")
    return text


def _configured_url() -> str | None:
    try:
        return settings().database_url
    except StoreError:
        # scrub() runs while an error is reported, the bad-setting error among them: a bad
        # value of another variable must neither hide that message nor let this password
        # through, so only here the raw variable is read.
        return os.environ.get("PCSEARCH_DATABASE_URL")


def _password(url: str | None) -> str | None:
    if not url or journal_path(url) is not None:
        return None
    try:
        return make_url(url).password
    except Exception:
        return None


def open_storage(url: str, must_exist: bool = False, *, worker: bool = False) -> ResilientStorage:
    """The storage behind ``url``; bad input is a :class:`StoreError` naming the fix.

    A journal file is created when missing, unless ``must_exist`` (commands that only
    read: a mistyped path must not become an empty storage that "has no studies").
    A ``worker`` (a service) holds at most two database connections and waits as long as
    it takes for a database it cannot reach yet; see :mod:`store.connections`.
    """
    path = journal_path(url)
    if path is not None:
        if must_exist and not path.is_file():
            raise StoreError(
                f"no journal file at {str(path)!r}; run `pcsearch search` in this folder "
                f"first, or pass --storage (a .journal file or postgresql+psycopg2://USER@HOST/DB)"
            )
        return ResilientStorage(_open_journal(url, path), url)
    if not is_rdb(url):
        raise StoreError(
            f"storage {redact(url)!r} is not supported; use a .journal file path, "
            f"sqlite:///FILE or postgresql+psycopg2://USER@HOST/DB"
        )
    _check_url(url)
    if worker:
        mark_worker()
    return ResilientStorage(optuna.storages.get_storage(_open_rdb(url, worker)), url)


def _check_url(url: str) -> None:
    """A URL that cannot be parsed (a port that is not a number, ...) is a usage error."""
    try:
        make_url(url).port  # noqa: B018 - parsing is the check
    except Exception as error:
        userinfo = re.search(r"://([^/@]*)@", url)
        detail = str(error)
        if userinfo and userinfo.group(1) and userinfo.group(1) in detail:
            detail = type(error).__name__
        raise StoreError(
            f"cannot open storage: the URL in --storage or PCSEARCH_DATABASE_URL is malformed "
            f"({detail}); write it as postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DB, with "
            f"@ : / in the password written %40 %3A %2F"
        ) from None


def _open_journal(url: str, path: Path) -> optuna.storages.JournalStorage:
    if path.suffix not in (".journal", ".log"):
        raise StoreError(
            f"storage {url!r} is neither a URL nor a .journal file; give e.g. "
            f"pcsearch.journal, sqlite:///studies.db or postgresql+psycopg2://user@host/db"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a"):
            pass
        backend = optuna.storages.journal.JournalFileBackend(
            str(path),
            lock_obj=JournalFlock(str(path)),  # type: ignore[arg-type]  # Optuna's protocol
        )
        return optuna.storages.JournalStorage(backend)
    except OSError as error:
        raise StoreError(
            f"cannot write the journal file {str(path)!r}: {error.strerror or error}; "
            f"choose a writable path with --storage"
        ) from None


def _open_rdb(url: str, worker: bool = False) -> optuna.storages.RDBStorage:
    """The RDB storage, creating the schema under a lock so that concurrent first starts do
    not race. A transient problem (no free connection, a database still starting) is
    waited out: by a worker for as long as it takes, by a command for
    ``PCSEARCH_CONNECT_TIMEOUT_SECONDS``; a permanent one (wrong URL, credentials or
    database) is a :class:`StoreError` at once."""
    waiting = ConnectWait(redact(url), forever=worker)
    while True:
        try:
            with _named_lock(url, SCHEMA_LOCK, timeout=settings().lock_timeout_seconds):
                storage = optuna.storages.RDBStorage(
                    url, engine_kwargs=engine_kwargs(url, worker), skip_compatibility_check=True
                )
            _check_schema_version(storage, url)
        except Exception as error:
            problem = connection_problem(error, url)
            if problem is None:
                raise
            if is_transient(error) and not permanent(problem) and not waiting.expired():
                waiting.pause(problem)
                continue
            raise StoreError(
                f"cannot open storage {redact(url)}: {problem}; check the host, port, user, "
                f"password and database name in --storage or PCSEARCH_DATABASE_URL"
            ) from None
        waiting.connected()
        return storage


def _check_schema_version(storage: optuna.storages.RDBStorage, url: str) -> None:
    """Optuna's own check, after the schema lock is given back and on one connection at a
    time (Optuna's nests a second one inside a session: a worker holds at most two)."""
    current, head = storage.get_current_version(), storage.get_head_version()
    if current != head:
        raise StoreError(
            f"the tables in {redact(url)} have Optuna schema {current}, but Optuna "
            f"{optuna.__version__} needs {head}: run `optuna storage upgrade --storage URL` "
            f"if they are older, or install the newer Optuna that made them"
        )


def connection_problem(error: BaseException, url: str) -> str | None:
    """One line saying why the database could not be used, or None for other errors."""
    e: BaseException | None = error
    while e is not None:
        if isinstance(e, sqlalchemy.exc.DBAPIError | sqlalchemy.exc.ArgumentError):
            original = getattr(e, "orig", None) or e
            lines = [ln.strip() for ln in str(original).strip().splitlines() if ln.strip()]
            text = lines[0] if lines else type(original).__name__
            return scrub(text.removeprefix("(psycopg2.OperationalError) "), url)
        if isinstance(e, ModuleNotFoundError | ImportError):
            return f"the database driver is not installed ({e})"
        e = e.__cause__ or e.__context__
    return None


# --- locks ---------------------------------------------------------------------------------

_engines: dict[str, sqlalchemy.engine.Engine] = {}


def _lock_engine(url: str) -> sqlalchemy.engine.Engine:
    """An engine of its own: a lock must not wait for a connection the storage holds, and
    the storage's calls go on while the lock's connection holds the lock. One connection,
    closed when idle (a worker claims once a trial)."""
    if url not in _engines:
        _engines[url] = sqlalchemy.create_engine(url, **lock_engine_kwargs(url))
    return _engines[url]


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _named_lock(url: str, name: str, timeout: float) -> Iterator[None]:
    """A lock named ``name`` across every process that uses the database behind ``url``.

    Held by one connection, released when the block ends or the connection dies; a
    holder whose connection died inside the block gets :class:`LockLost` at its end.
    """
    path = journal_path(url)
    if path is None and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    if path is not None:
        with _file_lock(path.with_name(f"{path.name}.{_safe(name)}.lock"), timeout):
            yield
        return
    postgres = url.startswith("postgresql")
    if postgres:
        take, give = "SELECT true FROM pg_advisory_lock(:k)", "SELECT pg_advisory_unlock(:k)"
        key: object = _key(name)
    else:  # MySQL/MariaDB named locks; names are limited to 64 characters
        take, give = "SELECT GET_LOCK(:k, :t) = 1", "SELECT RELEASE_LOCK(:k)"
        key = hashlib.sha256(name.encode()).hexdigest()[:60]
    give_up = time.monotonic() + timeout
    while True:
        wait = max(0.001, min(LOCK_WAIT_SLICE, give_up - time.monotonic()))
        with _lock_engine(url).connect() as conn:
            if _take(conn, take, key, wait, postgres):
                try:
                    yield
                finally:
                    try:
                        released = conn.execute(sqlalchemy.text(give), {"k": key}).scalar()
                        conn.commit()
                    except Exception as error:
                        if not is_transient(error):
                            raise
                        released = False
                    if not released:
                        raise LockLost(f"the connection holding lock {name!r} was lost")
                return
            conn.invalidate()  # wait holding no connection: the holder may need one
        if time.monotonic() >= give_up:
            raise TimeoutError(f"lock {name!r} not granted within {timeout:g} s")
        time.sleep(random.uniform(0.05, 0.2))


LOCK_WAIT_SLICE = 1.0
"""Seconds a waiter waits for a named lock inside the server before it gives its connection
back and asks again. A waiter that held its connection for the whole wait could starve the
holder: with the server's or the role's connection limit reached by waiters, the holder
cannot open the storage connection it needs to finish, and everyone waits out the lock
timeout."""


def _take(conn: sqlalchemy.Connection, take: str, key: object, seconds: float, pg: bool) -> bool:
    """Ask for the lock on ``conn``, waiting in the server for up to ``seconds``."""
    params: dict[str, object] = {"k": key}
    try:
        if pg:
            conn.execute(
                sqlalchemy.text("SELECT set_config('lock_timeout', :t, false)"),
                {"t": f"{max(1, int(seconds * 1000))}ms"},
            )
        else:
            params["t"] = max(1, math.ceil(seconds))  # whole seconds in MySQL
        granted = bool(conn.execute(sqlalchemy.text(take), params).scalar())
    except sqlalchemy.exc.OperationalError as error:
        if getattr(error.orig, "pgcode", None) != "55P03":  # lock_not_available
            raise
        granted = False
    conn.commit()
    return granted


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    with open(path, "a") as handle:
        give_up = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > give_up:
                    raise TimeoutError(f"lock file {str(path)!r} busy for {timeout:g} s") from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def slot_lock(url: str, study_name: str) -> Iterator[None]:
    """Serialise "is another trial needed? then ask" across every worker of a study.

    Waiting for the lock is retried like any storage call; :class:`LockLost` at the end
    tells the holder that its exclusivity may have lapsed (see ``workers.claim``).
    """
    with contextlib.ExitStack() as stack:
        retry(lambda: stack.enter_context(_named_lock(url, f"slots {study_name}", _timeout())))
        yield


def _timeout() -> float:
    left = remaining()
    configured = settings().lock_timeout_seconds
    return configured if left is None else min(configured, left)


def dashboard_command(url: str) -> str:
    """The command that opens optuna-dashboard on this storage, as it may be printed."""
    if _password(url):
        return "PCSEARCH_DATABASE_URL=<the URL with its password> pcsearch dashboard"
    return f"pcsearch dashboard --storage {url}"


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def _safe(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]
