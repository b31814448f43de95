"""Opening Optuna storages from a URL, with locks that hand out trial slots exactly.

- ``postgresql+psycopg2://...`` (the service): an RDB storage; the slot lock is a Postgres
  advisory lock. Schema creation runs under an advisory lock too, so a fleet of workers
  and the API may start together on an empty database.
- ``mysql+pymysql://...``: the same, with MySQL's named locks (``GET_LOCK``).
- a path ending in ``.journal`` (or ``journal:///path``, the embedded default): Optuna's
  journal file, safe with several local processes writing at once; the lock is a file lock.
- ``sqlite:///path.db``: accepted, but SQLite serialises writers and may report "database is
  locked" under several workers; prefer a journal file.

Every storage is wrapped in :class:`workers.resilience.ResilientStorage`. No URL is ever
shown with its password: :func:`redact` and :func:`scrub` are for every message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import sqlalchemy
import sqlalchemy.exc
from sqlalchemy.engine import make_url

from workers.errors import WorkerError
from workers.resilience import ResilientStorage, is_transient, remaining, retry
from workers.settings import settings

DEFAULT_STORAGE = "pcsearch.journal"
SCHEMA_LOCK = "pcsearch schema"


class LockLost(WorkerError):
    """The connection holding a slot lock died while the lock was held."""


def storage_url(given: str | None, default: str | None = None) -> str:
    """``--storage``, else ``$PCSEARCH_DATABASE_URL``, else ``default``."""
    url = given or settings().database_url or default
    if not url:
        raise WorkerError(
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
    except WorkerError:  # a bad setting elsewhere must not hide this message
        return os.environ.get("PCSEARCH_DATABASE_URL")


def _password(url: str | None) -> str | None:
    if not url or journal_path(url) is not None:
        return None
    try:
        return make_url(url).password
    except Exception:
        return None


def open_storage(url: str, must_exist: bool = False) -> ResilientStorage:
    """The storage behind ``url``; bad input is a :class:`WorkerError` naming the fix.

    A journal file is created when missing, unless ``must_exist`` (commands that only
    read: a mistyped path must not become an empty storage that "has no studies").
    """
    path = journal_path(url)
    if path is not None:
        if must_exist and not path.is_file():
            raise WorkerError(
                f"no journal file at {str(path)!r}; run `pcsearch search` in this folder "
                f"first, or pass --storage (a .journal file or postgresql+psycopg2://USER@HOST/DB)"
            )
        return ResilientStorage(_open_journal(url, path), url)
    if not is_rdb(url):
        raise WorkerError(
            f"storage {redact(url)!r} is not supported; use a .journal file path, "
            f"sqlite:///FILE or postgresql+psycopg2://USER@HOST/DB"
        )
    return ResilientStorage(optuna.storages.get_storage(_open_rdb(url)), url)


def _open_journal(url: str, path: Path) -> optuna.storages.JournalStorage:
    if path.suffix not in (".journal", ".log"):
        raise WorkerError(
            f"storage {url!r} is neither a URL nor a .journal file; give e.g. "
            f"pcsearch.journal, sqlite:///studies.db or postgresql+psycopg2://user@host/db"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a"):
            pass
        backend = optuna.storages.journal.JournalFileBackend(
            str(path), lock_obj=optuna.storages.journal.JournalFileOpenLock(str(path))
        )
        return optuna.storages.JournalStorage(backend)
    except OSError as error:
        raise WorkerError(
            f"cannot write the journal file {str(path)!r}: {error.strerror or error}; "
            f"choose a writable path with --storage"
        ) from None


def _engine_kwargs(url: str) -> dict:
    if url.startswith("postgresql"):
        # Keepalives on both ends: a dead host's connections (and the locks they hold) are
        # noticed in about half a minute instead of the kernel's two hours.
        # No pre-ping: a connection that died is seen by the failing call, which is retried
        # on a fresh one (workers.resilience), instead of a round trip before every call.
        return {
            "pool_size": settings().db_pool_size,
            "max_overflow": settings().db_pool_size,
            "connect_args": {
                "connect_timeout": 10,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                "-c tcp_keepalives_count=3",
            },
        }
    if url.startswith("mysql"):
        return {"pool_size": settings().db_pool_size, "pool_recycle": 3600}
    return {"connect_args": {"timeout": 60}}


def _open_rdb(url: str) -> optuna.storages.RDBStorage:
    """The RDB storage, waiting for a database that is still starting, and creating the
    schema under a lock so that concurrent first starts do not race."""
    waited_since = time.monotonic()
    while True:
        try:
            with _named_lock(url, SCHEMA_LOCK, timeout=settings().lock_timeout_seconds):
                return optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url))
        except Exception as error:
            problem = connection_problem(error, url)
            if problem is None:
                raise
            transient = is_transient(error) and not _permanent(problem)
            if transient and time.monotonic() - waited_since < settings().connect_timeout_seconds:
                time.sleep(1.0)
                continue
            raise WorkerError(
                f"cannot open storage {redact(url)}: {problem}; check the host, port, user, "
                f"password and database name in --storage or PCSEARCH_DATABASE_URL"
            ) from None


_PERMANENT = (
    "password authentication failed",
    "authentication failed",
    "access denied",
    "does not exist",
    "unknown database",
    "could not translate host name",
    "name or service not known",
    "no such file or directory",
    "unable to open database file",
    "role",
)


def _permanent(problem: str) -> bool:
    lowered = problem.lower()
    return any(p in lowered for p in _PERMANENT)


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
    """A small pool of its own: a lock must not wait for a connection the storage holds."""
    if url not in _engines:
        kwargs = {**_engine_kwargs(url), "pool_size": 2, "max_overflow": 2}
        _engines[url] = sqlalchemy.create_engine(url, **kwargs)
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
    if postgres:  # waits inside the server (no polling), bounded by lock_timeout
        take, give = "SELECT true FROM pg_advisory_lock(:k)", "SELECT pg_advisory_unlock(:k)"
        key: object = _key(name)
    else:  # MySQL/MariaDB named locks; names are limited to 64 characters
        take, give = "SELECT GET_LOCK(:k, :t) = 1", "SELECT RELEASE_LOCK(:k)"
        key = hashlib.sha256(name.encode()).hexdigest()[:60]
    params = {"k": key}
    with _lock_engine(url).connect() as conn:
        try:
            if postgres:
                conn.execute(
                    sqlalchemy.text("SELECT set_config('lock_timeout', :t, false)"),
                    {"t": f"{max(1, int(timeout * 1000))}ms"},
                )
            else:
                params["t"] = timeout
            granted = conn.execute(sqlalchemy.text(take), params).scalar()
            params = {"k": key}
        except sqlalchemy.exc.OperationalError as error:
            if getattr(error.orig, "pgcode", None) != "55P03":  # lock_not_available
                raise
            granted = False
        conn.commit()
        if not granted:
            raise TimeoutError(f"lock {name!r} not granted within {timeout:g} s")
        try:
            yield
        finally:
            try:
                released = conn.execute(sqlalchemy.text(give), params).scalar()
                conn.commit()
            except Exception as error:
                if not is_transient(error):
                    raise
                released = False
            if not released:
                raise LockLost(f"the connection holding lock {name!r} was lost")


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
