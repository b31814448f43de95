"""The service's settings, every ``PCSEARCH_*`` environment variable in one class, read once.

The store is the lowest package that both the API and the workers import, so the one class
lives here; the README's table of variables is checked against it (tests/store). Tests and
impatient users shorten the heartbeat with e.g.
``PCSEARCH_HEARTBEAT_SECONDS=1 PCSEARCH_HEARTBEAT_GRACE_SECONDS=4``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.errors import StoreError

ENV_PREFIX = "PCSEARCH_"


class Settings(BaseSettings):
    """Every ``PCSEARCH_*`` setting of the store, the workers, the API and the command line.

    The PC core reads ``PCSEARCH_CACHE_DIR`` and ``PCSEARCH_DATA_DIR`` itself, because it
    must run on a bare GPU machine without pydantic; ``PCSEARCH_TEST_*`` are test hooks
    (workers.fault_injection), not settings.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # Shared by every process.
    database_url: str | None = Field(None, repr=False)
    """The storage every command uses when ``--storage`` is not given, and the one the API
    serves (``pcsearch api --storage`` sets it)."""
    db_pool_size: int = Field(5, ge=1, le=200)
    """Storage connections an API, dashboard or command process keeps open (more for a busy
    API). Not a worker's: a worker holds at most two (see store.connections)."""
    db_idle_seconds: float = Field(2.0, gt=0, le=3600)
    """A worker's connections unused this long are closed, so a fleet that trains (or waits
    for work) holds few; keep it below the worker's --poll to let idle workers hold none."""
    connect_timeout_seconds: float = Field(60.0, ge=0)
    """How long a command (not a worker: it waits as long as it takes) waits at start for a
    database it cannot reach, or that has no free connection, before giving up."""
    connect_retry_max_seconds: float = Field(30.0, gt=0, le=3600)
    """Longest pause between a waiting worker's attempts to connect (the pauses double from
    half a second, with jitter)."""
    lock_timeout_seconds: float = Field(60.0, gt=0)
    """How long a claim waits for a study's slot lock before trying again later."""

    # Workers.
    heartbeat_seconds: float = Field(30.0, gt=0)
    """How often a worker renews the lease of each trial it holds."""
    heartbeat_grace_seconds: float = Field(120.0, gt=0)
    """How long a lease may go unrenewed, as seen by a connected observer, before the
    trial counts as abandoned and is retried."""
    max_consecutive_failures: int = Field(3, ge=1)
    """Trials a worker may fail in a row on one study before it stops taking that study."""
    failing_workers: int = Field(2, ge=1)
    """Workers that must give up on a study before the study itself is marked failing."""
    max_attempts: int = Field(3, ge=1)
    """Runs of one parameter set (the first and its retries) before it is dropped."""
    failure_backoff_seconds: float = Field(1.0, ge=0)
    """First pause after a failed trial; doubles with each failure in a row."""
    skip_study_seconds: float = Field(300.0, ge=0)
    """How long a worker leaves a study alone after an error it could not settle there
    (a config from a newer pcsearch, a task this machine lacks, ...)."""
    worker_dry_run: bool = False
    """Testing and benchmarks only: trials are told without training (workers.dry_run)."""
    dry_run_epoch_seconds: float = Field(0.0, ge=0)
    """How long each epoch of a dry run waits (with PCSEARCH_WORKER_DRY_RUN)."""
    worker_state_dir: Path | None = None
    """The folder of the workers' liveness files (default: workers.liveness.state_dir)."""
    worker_stale_seconds: float = Field(1800.0, gt=0, le=7 * 24 * 3600)
    """A worker whose main thread made no progress this long is hung. Generous: one epoch
    of a big model on a slow GPU, with its compilation, can take many minutes."""
    worker_lock: Path | None = None
    """A file one ``pcsearch worker`` per machine holds locked; unset: no lock."""

    # The HTTP API.
    api_tokens: SecretStr = SecretStr("")
    """Comma-separated bearer tokens; with none, the API serves localhost only, unauthenticated."""
    api_public_read: bool = False
    """Whether reading (GET) needs no token when tokens are configured."""
    api_max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """The largest request body the API reads; a larger one is answered 413."""
    api_storage_deadline_seconds: float = Field(10.0, gt=0, le=600)
    """How long a request may wait for the database before it is answered 503."""
    api_cache_seconds: float = Field(1.0, ge=0, le=60)
    """How long an answer of a read route may be reused (0: never); see api.cache."""
    api_connect_timeout_seconds: float = Field(3.0, gt=0, le=60)
    """How long the first connection (and /readyz) waits for a database that is not up."""
    api_threads: int = Field(5, ge=1, le=200)
    """Threads for database work per process. Keep it at most PCSEARCH_DB_POOL_SIZE (the
    connections each process keeps, 5 by default): more threads than pooled connections
    make the pool open and close a connection for every extra request, and Postgres forks
    a process for each."""
    api_switch_interval_ms: float = Field(0.5, gt=0, le=100)
    """How often Python hands its lock between threads (its default is 5 ms). Under load the
    event loop serving cached answers would otherwise make every database round trip of a
    thread wait up to that long for the lock; a write makes dozens of round trips."""
    api_workers: int = Field(1, ge=1, le=64)
    """Server processes of ``pcsearch api`` (each with its own connection pool)."""

    # The client commands (submit, status, stop, resume) and the command line.
    api_url: str = "http://127.0.0.1:8000"
    """The API the client commands talk to when ``--api`` is not given."""
    api_token: SecretStr = SecretStr("")
    """The bearer token the client commands send (one of the server's PCSEARCH_API_TOKENS)."""
    debug: bool = False
    """An internal error of a command shows its traceback instead of one line."""

    @field_validator("worker_state_dir", "worker_lock", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value  # not Path("."): a compose file's ${X:-}

    @model_validator(mode="after")
    def _grace_exceeds_interval(self) -> Settings:
        if self.heartbeat_grace_seconds <= self.heartbeat_seconds:
            raise ValueError(
                f"PCSEARCH_HEARTBEAT_GRACE_SECONDS={self.heartbeat_grace_seconds:g} must be "
                f"larger than PCSEARCH_HEARTBEAT_SECONDS={self.heartbeat_seconds:g} "
                f"(a few intervals, e.g. 4x)"
            )
        return self


def load_settings(**values: Any) -> Settings:
    """Settings from the environment, ``values`` on top (tests, ``pcsearch api --storage``);
    a bad value is a :class:`StoreError` with one ``PCSEARCH_X: message`` per variable."""
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(
            (f"{ENV_PREFIX}{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in error.errors()
        )
        raise StoreError(f"bad setting: {problems}") from None


@cache
def settings() -> Settings:
    """The settings of this process, read once; a bad value is a clear usage error."""
    return load_settings()
