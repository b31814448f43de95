"""Leases: who holds a RUNNING trial, how they keep it, and how an abandoned one is found.

A trial's lease is its owner (the ``worker`` user attribute, ``host:pid``) plus a
heartbeat counter (a system attribute) that the owner bumps every
``PCSEARCH_HEARTBEAT_SECONDS``. A claim writes both with the trial itself, in one storage
write (:func:`leased_template`), so no trial is ever RUNNING without them.

An observer judges a lease by what it *saw*, not by clocks: a lease that did not change
for ``PCSEARCH_HEARTBEAT_GRACE_SECONDS`` of the observer's own time, with no storage
outage in between (nobody can renew a lease while the database is away), is abandoned.
So a Postgres restart longer than the grace period fails nobody's trial, and no two
machines need synchronised clocks. An owner on this host whose process is gone is
abandoned at once.

Abandoned trials are failed and, while their parameters have attempts left, queued
again as WAITING trials with the same parameters (:func:`release`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from store import attrs
from store.resilience import OUTAGES
from store.settings import settings

log = logging.getLogger("pcsearch.worker")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def leased_template(owner: str, **user_attrs: object) -> FrozenTrial:
    """A RUNNING trial that already carries its lease, for ``create_new_trial``."""
    return optuna.trial.create_trial(
        state=TrialState.RUNNING,
        user_attrs={attrs.WORKER: owner, **user_attrs},
        system_attrs={attrs.BEAT: 0},
    )


def lease_of(trial: FrozenTrial) -> tuple[object, object]:
    return trial.user_attrs.get(attrs.WORKER), trial.system_attrs.get(attrs.BEAT)


# --- the owner's side --------------------------------------------------------------------


@dataclass
class Holdings:
    """The trials this process holds: what its heartbeat renews and a stop releases."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _held: dict[int, optuna.Study] = field(default_factory=dict)
    lost: set[int] = field(default_factory=set)
    """Trials that someone else finished (failed as abandoned, or deleted with the study)."""

    def add(self, study: optuna.Study, trial_ids: Iterable[int]) -> None:
        with self._lock:
            for trial_id in trial_ids:
                self._held[trial_id] = study
                self.lost.discard(trial_id)

    def drop(self, trial_ids: Iterable[int]) -> None:
        with self._lock:
            for trial_id in trial_ids:
                self._held.pop(trial_id, None)

    def lose(self, trial_id: int) -> None:
        with self._lock:
            self.lost.add(trial_id)
            self._held.pop(trial_id, None)

    def snapshot(self) -> list[tuple[optuna.Study, int]]:
        with self._lock:
            return [(study, trial_id) for trial_id, study in self._held.items()]


class Heartbeat:
    """One thread per worker process that renews every lease it holds.

    It never dies: storage calls are retried through outages (see
    :mod:`store.resilience`); a trial someone else finished is marked lost, so the
    training loop can give it up.
    """

    def __init__(self, holdings: Holdings, interval: float | None = None) -> None:
        self.holdings = holdings
        self.interval = interval or settings().heartbeat_seconds
        self._stop = threading.Event()
        self._count = 0
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def beat(self) -> None:
        """Renew every held lease once."""
        self._count += 1
        for study, trial_id in self.holdings.snapshot():
            try:
                study._storage.set_trial_system_attr(trial_id, attrs.BEAT, self._count)
            except (UpdateFinishedTrialError, KeyError):
                log.warning("trial id %d was finished by someone else; giving it up", trial_id)
                self.holdings.lose(trial_id)
            except Exception:
                log.exception("heartbeat of trial id %d failed; trying again", trial_id)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()


# --- the observer's side -----------------------------------------------------------------


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (dead, waiting for its parent to notice)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - one read
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def owner_is_gone(owner: object) -> bool:
    """The owner ran on this host and its process no longer exists."""
    if not isinstance(owner, str):
        return False
    host, _, pid = owner.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


class StaleWatch:
    """Finds abandoned RUNNING trials of one study by watching their leases over time."""

    def __init__(self, grace: float | None = None, every: float = 1.0) -> None:
        self.grace = grace or settings().heartbeat_grace_seconds
        self.every = every
        self._seen: dict[int, tuple[tuple[object, object], float]] = {}
        self._last = float("-inf")

    def due(self) -> bool:
        """Whether a look is worth its query (claims come many times a second)."""
        return time.monotonic() - self._last >= self.every

    def abandoned(self, study: optuna.Study) -> list[FrozenTrial]:
        now = self._last = time.monotonic()
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        seen: dict[int, tuple[tuple[object, object], float]] = {}
        found = []
        for trial in running:
            lease = lease_of(trial)
            earlier = self._seen.get(trial._trial_id)
            unchanged = earlier is not None and earlier[0] == lease
            since = earlier[1] if unchanged and earlier[1] > OUTAGES.last_failure else now
            seen[trial._trial_id] = (lease, since)
            if owner_is_gone(lease[0]) or now - since > self.grace:
                found.append(trial)
        self._seen = seen
        return found


# --- giving trials back ---------------------------------------------------------------------


SEED_KEYS = (attrs.SEED, attrs.DATA_SEED)
"""A rerun trial's seeds go with its retry (other trials' are set only when they finish)."""


def release(study: optuna.Study, trial_ids: Iterable[int], reason: str, retry: bool) -> list[int]:
    """Fail those of ``trials`` still RUNNING with ``reason``; with ``retry``, queue each
    one's parameters again while they have attempts left. Returns the numbers failed.

    The caller holds the study's slot lock when ``retry`` is set: a queued retry takes the
    place of the failed trial in the study's count.
    """
    storage = study._storage
    failed = []
    for trial_id in trial_ids:
        try:
            frozen = storage.get_trial(trial_id)
            if frozen.state != TrialState.RUNNING:
                continue
            storage.set_trial_user_attr(trial_id, attrs.REASON, reason)
            storage.set_trial_user_attr(trial_id, attrs.RUN_STATUS, "failed")
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        except (UpdateFinishedTrialError, KeyError):
            continue  # finished or deleted meanwhile: not ours to fail
        failed.append(frozen.number)
        attempt = int(frozen.user_attrs.get(attrs.ATTEMPT, 1))
        seeded = {k: frozen.user_attrs[k] for k in SEED_KEYS if k in frozen.user_attrs}
        if retry and (frozen.params or seeded) and attempt < settings().max_attempts:
            study.enqueue_trial(
                frozen.params,
                user_attrs={
                    attrs.RETRY_OF: frozen.user_attrs.get(attrs.RETRY_OF, frozen.number),
                    attrs.ATTEMPT: attempt + 1,
                    **seeded,
                },
            )
            log.info("trial %d failed (%s); queued again", frozen.number, reason)
        else:
            log.info("trial %d failed (%s)", frozen.number, reason)
    return failed


def reap(study: optuna.Study, watch: StaleWatch) -> list[int]:
    """Fail the study's abandoned trials and queue them again; the caller holds the slot
    lock. Returns the numbers failed."""
    abandoned = watch.abandoned(study)
    if not abandoned:
        return []
    return release(
        study,
        [t._trial_id for t in abandoned],
        "worker lost: its process ended or its lease was not renewed",
        retry=True,
    )
