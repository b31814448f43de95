"""Worker settings, read once from ``PCSEARCH_*`` environment variables.

Tests and impatient users shorten the heartbeat with e.g.
``PCSEARCH_HEARTBEAT_SECONDS=1 PCSEARCH_HEARTBEAT_GRACE_SECONDS=4``.
"""

from __future__ import annotations

from functools import cache

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.errors import StoreError


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PCSEARCH_", extra="ignore")

    database_url: str | None = None
    """The storage every command uses when ``--storage`` is not given."""
    db_pool_size: int = Field(5, ge=1, le=200)
    """Storage connections an API, dashboard or command process keeps open (more for a busy
    API). Not a worker's: a worker holds at most two (see store.connections)."""
    db_idle_seconds: float = Field(2.0, gt=0, le=3600)
    """A worker's connections unused this long are closed, so a fleet that trains (or waits
    for work) holds few; keep it below the worker's --poll to let idle workers hold none."""
    heartbeat_seconds: float = Field(30.0, gt=0)
    """How often a worker renews the lease of each trial it holds."""
    heartbeat_grace_seconds: float = Field(120.0, gt=0)
    """How long a lease may go unrenewed, as seen by a connected observer, before the
    trial counts as abandoned and is retried."""
    connect_timeout_seconds: float = Field(60.0, ge=0)
    """How long a command (not a worker: it waits as long as it takes) waits at start for a
    database it cannot reach, or that has no free connection, before giving up."""
    connect_retry_max_seconds: float = Field(30.0, gt=0, le=3600)
    """Longest pause between a waiting worker's attempts to connect (the pauses double from
    half a second, with jitter)."""
    lock_timeout_seconds: float = Field(60.0, gt=0)
    """How long a claim waits for a study's slot lock before trying again later."""
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

    @model_validator(mode="after")
    def _grace_exceeds_interval(self) -> WorkerSettings:
        if self.heartbeat_grace_seconds <= self.heartbeat_seconds:
            raise ValueError(
                f"PCSEARCH_HEARTBEAT_GRACE_SECONDS={self.heartbeat_grace_seconds:g} must be "
                f"larger than PCSEARCH_HEARTBEAT_SECONDS={self.heartbeat_seconds:g} "
                f"(a few intervals, e.g. 4x)"
            )
        return self


@cache
def settings() -> WorkerSettings:
    """The settings of this process; a bad value is a clear usage error."""
    try:
        return WorkerSettings()
    except ValidationError as error:
        problems = "; ".join(
            (f"PCSEARCH_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in error.errors()
        )
        raise StoreError(f"bad worker setting: {problems}") from None
