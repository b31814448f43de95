"""Request dependencies: the storage (opened on first use), bounded storage work, and auth."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
import optuna
import sqlalchemy
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.cache import ReadCache
from api.errors import Unavailable
from api.settings import tokens
from pcsearch.errors import PCSearchError
from store.resilience import StorageUnavailable, deadline
from store.settings import Settings
from store.storage import connection_problem, open_storage, scrub

T = TypeVar("T")
RETRY_AFTER_SECONDS = 1.0
"""After a failed open, requests get that failure for this long without a new attempt."""


class StorageHolder:
    """The app's storage, opened on first use so that the API starts (and /readyz can
    say why) while the database is still down. A failed open is tried again a second
    later; requests that queued behind a failing attempt share its answer instead of each
    waiting for a connect timeout of their own."""

    def __init__(self, url: str, connect_timeout: float) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._storage: optuna.storages.BaseStorage | None = None
        self._lock = threading.Lock()
        self._failure: tuple[float, str] = (float("-inf"), "")

    @property
    def opened(self) -> optuna.storages.BaseStorage | None:
        return self._storage

    def get(self) -> optuna.storages.BaseStorage:
        if self._storage is not None:
            return self._storage
        asked = time.monotonic()
        with self._lock:
            if self._storage is not None:
                return self._storage
            failed_at, problem = self._failure
            if failed_at >= asked or time.monotonic() - failed_at < RETRY_AFTER_SECONDS:
                raise Unavailable(problem)  # the same answer as the attempt just made
            try:
                self._probe()
                try:
                    self._storage = open_storage(self.url)
                except PCSearchError as error:
                    raise Unavailable(scrub(str(error), self.url)) from None
            except Unavailable as error:
                self._failure = (time.monotonic(), str(error))
                raise
            return self._storage

    def _probe(self) -> None:
        """Fail fast on a database that is not up: opening the storage would wait for it."""
        if not self.url.startswith("postgresql"):
            return
        engine = sqlalchemy.create_engine(
            self.url,
            poolclass=sqlalchemy.pool.NullPool,
            connect_args={"connect_timeout": max(1, round(self.connect_timeout))},
        )
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT 1"))
        except Exception as error:
            problem = connection_problem(error, self.url) or type(error).__name__
            raise Unavailable(
                f"the database cannot be used: {problem}; check that it runs and that the "
                f"host, port, user, password and database name of the storage URL are right"
            ) from None
        finally:
            engine.dispose()

    def close(self) -> None:
        engine = getattr(self._storage, "engine", None)
        if engine is not None:
            engine.dispose()


# Dependencies that never block are ``async def``: FastAPI runs a plain ``def`` dependency
# in the thread pool, a hand-off that costs more than the work itself.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_cache(request: Request) -> ReadCache:
    return request.app.state.cache


async def get_storage(request: Request) -> optuna.storages.BaseStorage:
    """The storage; only its first opening (which may wait for the database) leaves the
    event loop."""
    holder: StorageHolder = request.app.state.storage
    return holder.opened or await run_in_threadpool(holder.get)


_write_limiters: dict[int, anyio.CapacityLimiter] = {}
WRITE_THREADS = 2


async def in_write_thread(call: Callable[[], T]) -> T:
    """Run a change (create, stop, resume, delete) in threads of its own: under load the
    shared pool is busy re-reading for the cache, and a change must not queue behind it."""
    loop = id(asyncio.get_running_loop())
    if loop not in _write_limiters:
        _write_limiters[loop] = anyio.CapacityLimiter(WRITE_THREADS)
    return await anyio.to_thread.run_sync(call, limiter=_write_limiters[loop])


SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[ReadCache, Depends(get_cache)]
StorageDep = Annotated[optuna.storages.BaseStorage, Depends(get_storage)]


@contextlib.contextmanager
def storage_work(settings: Settings) -> Iterator[None]:
    """Bound the storage calls of this block; an unreachable database becomes a 503."""
    seconds = settings.api_storage_deadline_seconds
    try:
        with deadline(seconds):
            yield
    except StorageUnavailable as error:
        reason = scrub(str(error), settings.database_url)
        raise Unavailable(
            f"the database did not answer within {seconds:g} s ({reason}); check that it is "
            f"running and reachable, then retry (GET /readyz shows the state)"
        ) from None


bearer = HTTPBearer(
    auto_error=False,
    description="One of the tokens in the server's PCSEARCH_API_TOKENS (comma-separated).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def valid_token(tokens: tuple[str, ...], given: str) -> bool:
    """Whether ``given`` is one of ``tokens``, compared against all of them in constant
    time, so the time taken does not tell which one nearly matched."""
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given.encode(), token.encode())
    return matched


def read_allowed(settings: Settings, authorization: str | None) -> bool:
    """The read rule on a raw ``Authorization`` header (for the cached fast path)."""
    allowed = tokens(settings)
    if not allowed or settings.api_public_read:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and valid_token(allowed, given.strip())


def _check_token(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> None:
    allowed = tokens(settings)
    if not allowed:
        return  # localhost-only development mode (see pcsearch api)
    if credentials is None:
        raise HTTPException(
            401,
            "this route needs a token: send the header 'Authorization: Bearer <token>' with "
            "one of the server's PCSEARCH_API_TOKENS (the pcsearch client reads "
            "PCSEARCH_API_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not valid_token(allowed, credentials.credentials):
        raise HTTPException(
            401,
            "the bearer token is not one of the server's PCSEARCH_API_TOKENS; check "
            "PCSEARCH_API_TOKEN",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


async def require_write(settings: SettingsDep, credentials: Credentials) -> None:
    """Every route that changes something needs a token (when tokens are configured)."""
    _check_token(settings, credentials)


async def require_read(settings: SettingsDep, credentials: Credentials) -> None:
    """Reading needs a token too, unless PCSEARCH_API_PUBLIC_READ=true."""
    if not settings.api_public_read:
        _check_token(settings, credentials)


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare (a misspelt ``limt=5`` would
    otherwise be ignored in silence), with a 422 that names the parameter."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    allowed = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        choices = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "unknown_query_parameter",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter {name!r}; this route takes: {choices}",
                    "input": request.query_params.get(name),
                }
                for name in unknown
            ]
        )


def _query_names(dependant: Any) -> set[str]:
    """The query parameters of a route's dependant and of all its sub-dependencies."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
