"""Storage calls that survive a database restart: retried with backoff, idempotently.

A worker fleet outlives its database: Postgres restarts for an upgrade, a network blips.
:class:`ResilientStorage` wraps any Optuna storage and retries every call that failed
for a connection reason (never one that failed for a logical reason), so a worker waits
out an outage and keeps its finished result until it can tell it. Calls that could have
succeeded before their answer was lost are made idempotent here, in one place.

Every failure is also noted in :data:`OUTAGES`: lease observers discard what they saw
before an outage, since nobody could renew a lease while the database was away.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import optuna
import sqlalchemy.exc
from optuna.storages import BaseStorage
from optuna.trial import TrialState

log = logging.getLogger("pcsearch.storage")
T = TypeVar("T")

FIRST_BACKOFF, MAX_BACKOFF = 0.25, 8.0


class StorageUnavailable(Exception):
    """The database stayed unreachable past a caller's deadline."""


def is_transient(error: BaseException) -> bool:
    """A connection problem (worth retrying), not a logical error (never retried).

    Optuna re-raises SQLAlchemy errors as ``StorageInternalError``, so the cause chain
    is searched. A reconnect refused for want of a free connection ("too many clients",
    a role's CONNECTION LIMIT) is an ``OperationalError``, so it counts, as does a pool
    whose one connection stayed busy (``sqlalchemy.exc.TimeoutError``).
    """
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, sqlalchemy.exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(
            e,
            sqlalchemy.exc.OperationalError
            | sqlalchemy.exc.InterfaceError
            | sqlalchemy.exc.TimeoutError
            | ConnectionError
            | TimeoutError,
        ):
            return True
        e = e.__cause__ or e.__context__
    return False


class Outages:
    """When this process last failed to reach its storage, and whether it is down now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last_failure: float = float("-inf")
        """``time.monotonic()`` of the most recent failed call."""
        self._down_since: float | None = None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.last_failure = time.monotonic()
            if self._down_since is None:
                self._down_since = self.last_failure
                log.warning("storage unreachable (%s); retrying with backoff", _first_line(error))

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "storage reachable again after %.1f s", time.monotonic() - self._down_since
                )
                self._down_since = None


OUTAGES = Outages()
_local = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound the retries of storage calls made by this thread inside the block; past the
    deadline a call raises :class:`StorageUnavailable` instead of waiting on."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def remaining() -> float | None:
    """Seconds left before this thread's :func:`deadline`, or None without one."""
    limit = getattr(_local, "deadline", None)
    return None if limit is None else max(0.0, limit - time.monotonic())


def retry(call: Callable[[], T], *, settled: Callable[[], T | None] | None = None) -> T:
    """Run ``call`` until it succeeds or fails for a non-transient reason.

    After a lost attempt, ``settled`` is asked whether that attempt had in fact succeeded
    (its answer lost with the connection); a non-None answer is returned as the result.
    """
    wait, lost = FIRST_BACKOFF, False
    while True:
        try:
            result = settled() if lost and settled is not None else None
            if result is None:
                result = call()
        except Exception as error:
            if not is_transient(error):
                raise
            OUTAGES.failed(error)
            limit = getattr(_local, "deadline", None)
            if limit is not None and time.monotonic() + wait > limit:
                raise StorageUnavailable(_first_line(error)) from error
            time.sleep(wait * random.uniform(0.5, 1.0))  # jitter: a fleet does not retry at once
            wait, lost = min(wait * 2, MAX_BACKOFF), True
            continue
        OUTAGES.succeeded()
        return result


def _first_line(error: BaseException) -> str:
    """The database's own words when there are some (Optuna wraps them in a generic
    ``StorageInternalError``), else the error's first line."""
    e: BaseException | None = error
    for _ in range(20):  # a chain may loop
        if e is None:
            break
        if isinstance(e, sqlalchemy.exc.DBAPIError) and e.orig is not None:
            error = e.orig
            break
        e = e.__cause__ or e.__context__
    text = [ln.strip() for ln in str(error).strip().splitlines() if ln.strip()]
    return f"{type(error).__name__}: {text[0] if text else ''}"


_PLAIN = (
    "set_study_user_attr", "set_study_system_attr", "get_study_id_from_name",
    "get_study_name_from_id", "get_study_directions", "get_study_user_attrs",
    "get_study_system_attrs", "get_all_studies", "create_new_trial", "set_trial_param",
    "get_trial_id_from_study_id_trial_number", "get_trial_number_from_id", "get_trial_param",
    "set_trial_intermediate_value", "set_trial_user_attr", "set_trial_system_attr",
    "get_trial", "get_all_trials", "get_n_trials", "get_best_trial", "get_trial_params",
    "get_trial_user_attrs", "get_trial_system_attrs", "check_trial_is_updatable",
)  # fmt: skip
"""Calls that are safe to repeat as they are: reads and upserts. ``create_new_trial``
repeated after a lost answer leaves an extra RUNNING trial with no lease; lease
observers fail it once its grace period has passed (see :mod:`store.leases`)."""


def _retried(name: str) -> Callable[..., Any]:
    def call(self: ResilientStorage, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.inner, name)
        return retry(lambda: method(*args, **kwargs))

    call.__name__ = name
    return call


class ResilientStorage(BaseStorage):
    """Any Optuna storage, with connection failures retried (see the module docstring)."""

    locals().update({name: _retried(name) for name in _PLAIN})

    def __init__(self, inner: BaseStorage, url: str) -> None:
        self.inner = inner
        self.url = url

    @property
    def engine(self) -> sqlalchemy.engine.Engine | None:
        """The SQLAlchemy engine of an RDB storage (for aggregate queries), else None."""
        backend = getattr(self.inner, "_backend", self.inner)
        return getattr(backend, "engine", None)

    def create_new_study(
        self, directions: list[optuna.study.StudyDirection], study_name: str | None = None
    ) -> int:
        def settled() -> int | None:
            if study_name is None:
                return None
            try:
                return self.inner.get_study_id_from_name(study_name)
            except KeyError:
                return None

        return retry(lambda: self.inner.create_new_study(directions, study_name), settled=settled)

    def delete_study(self, study_id: int) -> None:
        def settled() -> bool | None:
            try:
                self.inner.get_study_name_from_id(study_id)
            except KeyError:
                return True
            return None

        retry(lambda: self.inner.delete_study(study_id), settled=settled)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: list[float] | None = None
    ) -> bool:
        """Telling twice is telling once: a retry that finds the trial already in the state
        it asked for (with the same values) counts as done."""

        def settled() -> bool | None:
            trial = self.inner.get_trial(trial_id)
            if trial.state == state and (values is None or trial.values == list(values)):
                return True
            return None

        return retry(
            lambda: self.inner.set_trial_state_values(trial_id, state, values), settled=settled
        )

    def remove_session(self) -> None:
        self.inner.remove_session()

    def set_study_user_attrs(self, study_id: int, values: dict[str, Any]) -> None:
        """Several study user attributes in one write (one transaction on an RDB storage)."""
        self._set_study_attrs(study_id, values, system=False)

    def set_study_system_attrs(self, study_id: int, values: dict[str, Any]) -> None:
        """Several study system attributes in one write (one transaction on an RDB storage)."""
        self._set_study_attrs(study_id, values, system=True)

    def _set_study_attrs(self, study_id: int, values: dict[str, Any], system: bool) -> None:
        backend = getattr(self.inner, "_backend", None)
        if not hasattr(backend, "scoped_session"):
            set_one = self.inner.set_study_system_attr if system else self.inner.set_study_user_attr
            for key, value in values.items():
                retry(lambda key=key, value=value: set_one(study_id, key, value))
            return
        import json

        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        model = models.StudySystemAttributeModel if system else models.StudyUserAttributeModel

        def write() -> None:
            with _create_scoped_session(backend.scoped_session, True) as session:
                models.StudyModel.find_or_raise_by_id(study_id, session)
                existing = {
                    a.key: a
                    for a in session.query(model)
                    .filter(model.study_id == study_id, model.key.in_(list(values)))
                    .all()
                }
                for key, value in values.items():
                    if key in existing:
                        existing[key].value_json = json.dumps(value)
                    else:
                        session.add(model(study_id=study_id, key=key, value_json=json.dumps(value)))

        retry(write)

    def set_trial_user_attrs(self, trial_id: int, values: dict[str, Any]) -> None:
        """Several user attributes in one write: one transaction on an RDB storage instead
        of one per key (a finished trial stores about ten). Elsewhere, one call per key."""
        backend = getattr(self.inner, "_backend", None)
        write_many = getattr(backend, "_set_trial_attr_without_commit", None)
        if write_many is None:
            for key, value in values.items():
                retry(lambda key=key, value=value: self.inner.set_trial_user_attr(
                    trial_id, key, value
                ))  # fmt: skip
            return
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        def write() -> None:
            with _create_scoped_session(backend.scoped_session, True) as session:
                for key, value in values.items():
                    write_many(session, models.TrialUserAttributeModel, trial_id, key, value)

        retry(write)
