"""The API's settings, read once from ``PCSEARCH_*`` environment variables."""

from __future__ import annotations

import ipaddress
from functools import cache, cached_property
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.errors import ApiError
from api.secret_check import split_tokens


def is_local_host(host: str) -> bool:
    """Whether only this machine can connect to ``host``: localhost, 127.0.0.0/8 or ::1."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name: it may resolve to any interface
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PCSEARCH_", extra="ignore")

    database_url: str | None = Field(None, repr=False)
    """The Optuna storage the API serves (``pcsearch api --storage`` sets it)."""
    api_tokens: SecretStr = SecretStr("")
    """Comma-separated bearer tokens; with none, the API serves localhost only, unauthenticated."""
    api_public_read: bool = False
    """Whether reading (GET) needs no token when tokens are configured."""
    api_max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
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

    @cached_property
    def tokens(self) -> tuple[str, ...]:
        return split_tokens(self.api_tokens.get_secret_value())


def load_settings(**values: Any) -> Settings:
    """Settings from the environment, ``values`` on top; bad ones are one clear line."""
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(
            f"PCSEARCH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        raise ApiError(f"bad API setting: {problems}") from None


@cache
def settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
