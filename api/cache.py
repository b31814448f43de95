"""A short-lived cache of the read routes' answers, in this process only.

A page of study summaries costs the database an aggregate over every trial of the page's
studies; fifty clients polling it would make it compute the same figures hundreds of
times a second. Answers are kept for ``PCSEARCH_API_CACHE_SECONDS`` (about a second, the
pace at which a person can notice a change), and concurrent misses of one key wait for a
single computation. Any change made through this process clears the cache at once; a
change made elsewhere (a worker, another API process) shows within the TTL. Optuna's
storage stays the only source of truth: nothing here outlives the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.paths import STUDIES

LIST = "list"
"""The group of the study pages; each study's own answers are in the group of its name."""


def slot(path: str, query_string: bytes) -> tuple[str, str] | None:
    """The ``(group, key)`` of a cacheable GET (a study page, a study, its trials), else None."""
    if path == STUDIES:
        return LIST, f"{path}?{query_string.decode('latin-1')}"
    if path.startswith(STUDIES + "/"):
        name = path[len(STUDIES) + 1 :].split("/", 1)[0]
        return name, f"{path}?{query_string.decode('latin-1')}"
    return None


class _Flight:
    """One computation of an answer, which requests arriving meanwhile wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: bytes | None = None


class ReadCache:
    """Answers (bytes) by key, for ``ttl`` seconds; ``ttl <= 0`` turns it off.

    Every key belongs to a group (the study list, or one study), so that a change clears
    only the answers it can have changed. A request that arrives after a change never gets
    an answer computed before it: clearing a group starts a new generation, and waiting
    requests join only a computation of the current generation.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._generations: dict[str, int] = {}
        self._flights: dict[tuple[str, str, int], _Flight] = {}
        self._lock = threading.Lock()

    def peek(self, group: str, key: str) -> bytes | None:
        """The answer if one is fresh; never waits (safe on the event loop)."""
        entry = self._entries.get((group, key))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    def get(self, group: str, key: str, compute: Callable[[], bytes]) -> bytes:
        """The fresh answer, else the result of ``compute`` (blocking: call from a thread)."""
        if self.ttl <= 0:
            return compute()
        with self._lock:
            entry = self._entries.get((group, key))
            if entry is not None and entry[0] > time.monotonic():
                return entry[1]
            generation = self._generations.get(group, 0)
            flight = self._flights.get((group, key, generation))
            leader = flight is None
            if flight is None:
                flight = self._flights[(group, key, generation)] = _Flight()
        if not leader:
            flight.done.wait()
            return flight.value if flight.value is not None else compute()  # failed: retry
        try:
            flight.value = value = compute()
            with self._lock:
                if generation == self._generations.get(group, 0):
                    if len(self._entries) >= self.max_entries:
                        self._evict()
                    self._entries[(group, key)] = (time.monotonic() + self.ttl, value)
            return value
        finally:
            with self._lock:
                del self._flights[(group, key, generation)]
            flight.done.set()

    def clear(self, *groups: str) -> None:
        """Forget the answers of these groups, including those being computed now."""
        with self._lock:
            for group in groups:
                self._generations[group] = self._generations.get(group, 0) + 1
            for slot in [s for s in self._entries if s[0] in groups]:
                del self._entries[slot]

    def _evict(self) -> None:
        now = time.monotonic()
        for slot in [s for s, (until, _) in self._entries.items() if until <= now]:
            del self._entries[slot]
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
