"""The read model: what a person sees of studies and trials, without loading every trial.

Listing a hundred studies of ten thousand trials must stay fast, so on an RDB storage the
counts and best values come from aggregate SQL over Optuna's own tables (a few queries a
page, never one a trial; see :mod:`store.views_sql`). A journal file has no query
language, so there Optuna's API is read. Either way Optuna's storage stays the only copy
of the data. Free of HTTP: the API and the CLI both read through it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeVar

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import Connection

from store import attrs
from store import views_journal as journal
from store import views_sql as sql
from store.resilience import retry
from store.rows import (
    BestTrial,
    FailingWorker,
    SkippingWorker,
    StudyDetail,
    StudyPage,
    StudySummary,
    Trial,
    TrialCounts,
    TrialPage,
)
from store.skips import skipping_workers
from store.studies import StudyNotFound, failing_workers

T = TypeVar("T")

TRIAL_KEYS = (
    attrs.RUN_STATUS,
    attrs.REASON,
    attrs.WORKER,
    attrs.RETRY_OF,
    attrs.ATTEMPT,
    attrs.EPOCH_VALUES,
    attrs.WARM_START,
)
"""The trial attributes a listing shows; the bulky ones (energies, environment) stay put."""


def study_state(status: str | None, counts: TrialCounts, n_trials: int) -> str:
    """One word for a study: what a person set (stopped, failing), else what its trials say."""
    if status in (attrs.STOPPED, attrs.FAILING):
        return status
    if counts.done >= n_trials:
        return "complete"
    return "running" if counts.running else "queued"


def list_studies(
    storage: optuna.storages.BaseStorage, offset: int = 0, limit: int = 50
) -> StudyPage:
    """One page of the studies made by pcsearch, oldest first, and how many there are."""
    if _engine(storage) is None:
        return _journal_list(storage, offset, limit)

    def read(conn: Connection) -> StudyPage:
        total, rows = sql.study_page(conn, offset, limit)
        return StudyPage(total, offset, limit, [_summary(row) for row in rows])

    return _read(storage, read)


def get_study(storage: optuna.storages.BaseStorage, name: str) -> StudyDetail:
    """Everything about one study; :class:`StudyNotFound` for unknown names."""
    if _engine(storage) is None:
        return _journal_detail(storage, name)

    def read(conn: Connection) -> StudyDetail:
        row = sql.one_study(conn, name)
        if row is None:
            raise _not_found(name, exists=sql.study_exists(conn, name))
        found = sql.best_trial(conn, row.study_id, row.direction)
        best = None
        if found is not None:
            trial_id, number, value, curve = found
            params = sql.trial_params(conn, [trial_id])[trial_id]
            best = BestTrial(number, value, params, _curve(curve))
        marks = sql.worker_marks(conn, row.study_id)
        return _detail(_summary(row), row.spec or {}, best, marks)

    return _read(storage, read)


def list_trials(
    storage: optuna.storages.BaseStorage,
    name: str,
    states: Sequence[str] = (),
    offset: int = 0,
    limit: int = 50,
) -> TrialPage:
    """One page of a study's trials by number, optionally only those in ``states``."""
    wanted = [TrialState[s.upper()] for s in states]
    if _engine(storage) is None:
        return _journal_trials(storage, name, wanted, offset, limit)

    def read(conn: Connection) -> TrialPage:
        found = sql.trial_page(conn, name, wanted, offset, limit)
        if found is None:
            raise _not_found(name, exists=sql.study_exists(conn, name))
        total, trials = found
        ids = [t.trial_id for t in trials]
        params = sql.trial_params(conn, ids)
        stored = sql.trial_attrs(conn, ids, TRIAL_KEYS)
        items = [
            _trial_view(
                t.number,
                t.state,
                params[t.trial_id],
                t.value,
                stored[t.trial_id],
                _utc(t.datetime_start),
                _utc(t.datetime_complete),
            )
            for t in trials
        ]
        return TrialPage(total, offset, limit, items)

    return _read(storage, read)


def trial_counts(storage: optuna.storages.BaseStorage, name: str) -> TrialCounts:
    """How many trials of the study are in each state (e.g. for a progress line)."""
    if _engine(storage) is None:
        return get_study(storage, name).trials

    def read(conn: Connection) -> TrialCounts:
        row = sql.one_study(conn, name)
        if row is None:
            raise _not_found(name, exists=sql.study_exists(conn, name))
        return TrialCounts.of(row.counts)

    return _read(storage, read)


def new_study(name: str, spec: dict[str, Any], direction: StudyDirection) -> StudyDetail:
    """What :func:`get_study` shows of a study just created with ``spec`` (no trials yet),
    without reading it back."""
    row = sql.StudyRow(
        study_id=-1,
        name=name,
        task=spec.get("task"),
        algorithm=spec.get("algorithm"),
        n_trials=sql.as_int(spec.get("n_trials")),
        status=attrs.ACTIVE,
        direction=direction,
        spec=spec,
    )
    return _detail(_summary(row), spec, None, {})


# --- pure assembly ---------------------------------------------------------------------------


def _summary(row: sql.StudyRow) -> StudySummary:
    counts = TrialCounts.of(row.counts)
    return StudySummary(
        name=row.name,
        task=row.task,
        algorithm=row.algorithm,
        state=study_state(row.status, counts, row.n_trials),
        n_trials=row.n_trials,
        direction=row.direction.name.lower(),
        trials=counts,
        best_value=_finite(row.best),
    )


def _detail(
    summary: StudySummary,
    spec: dict[str, Any],
    best: BestTrial | None,
    marks: dict[str, Any],
) -> StudyDetail:
    """``marks``: the study's attributes holding its ``failing:`` and ``skipped:`` marks."""
    shared = {f.name: getattr(summary, f.name) for f in fields(StudySummary)}
    return StudyDetail(
        **shared,
        spec=spec,
        best_trial=best,
        failing_workers=[_failing(w, mark) for w, mark in failing_workers(marks).items()],
        skipping_workers=[_skipping(w, mark) for w, mark in skipping_workers(marks).items()],
    )


def _failing(worker: str, mark: Any) -> FailingWorker:
    """A ``failing:`` mark as stored: what :func:`store.studies.give_up` writes, or any
    JSON value a hand or an older pcsearch left there."""
    if not isinstance(mark, dict):
        return FailingWorker(worker, reason=str(mark))
    failures = mark.get("failures")
    return FailingWorker(
        worker,
        reason=_text(mark.get("reason")),
        failures=failures if isinstance(failures, int) else None,
        at=_text(mark.get("at")),
    )


def _skipping(worker: str, mark: Any) -> SkippingWorker:
    """A ``skipped:`` mark as stored (see :func:`store.skips.mark_skipped`), or any JSON value."""
    if not isinstance(mark, dict):
        return SkippingWorker(worker, reason=str(mark))
    after = mark.get("retry_after_seconds")
    return SkippingWorker(
        worker,
        reason=_text(mark.get("reason")),
        at=_text(mark.get("at")),
        retry_after_seconds=after if isinstance(after, int) else None,
    )


def _curve(values: Any) -> list[float | None]:
    """The stored per-epoch metric as floats (JSON keeps 1.0 as 1); a value that is not a
    number is a gap."""
    if not isinstance(values, list):
        return []
    return [float(v) if isinstance(v, int | float) else None for v in values]


def _trial_view(
    number: int,
    state: TrialState,
    params: dict[str, Any],
    value: float | None,
    found: Mapping[str, Any],
    started: dt.datetime | None,
    completed: dt.datetime | None,
) -> Trial:
    epochs = found.get(attrs.EPOCH_VALUES)
    retry_of, attempt = found.get(attrs.RETRY_OF), found.get(attrs.ATTEMPT)
    return Trial(
        number=number,
        state=state.name.lower(),
        params=params,
        value=_finite(value),
        status=_text(found.get(attrs.RUN_STATUS)),
        reason=_text(found.get(attrs.REASON)),
        worker=_text(found.get(attrs.WORKER)),
        epochs_done=len(epochs) if isinstance(epochs, list) else 0,
        retry_of=retry_of if isinstance(retry_of, int) else None,
        attempt=attempt if isinstance(attempt, int) else 1,
        started_at=started,
        completed_at=completed,
        warm_start=_text(found.get(attrs.WARM_START)),
    )


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _utc(naive_utc: dt.datetime | None) -> dt.datetime | None:
    """Optuna's RDB stores naive UTC."""
    return None if naive_utc is None else naive_utc.replace(tzinfo=dt.UTC)


def _not_found(name: str, exists: bool) -> StudyNotFound:
    if exists:
        return StudyNotFound(
            f"study {name!r} was not created by pcsearch; open it with optuna-dashboard instead"
        )
    return StudyNotFound(
        f"study {name!r} does not exist in this storage; list the studies with `pcsearch status`"
    )


# --- RDB plumbing ----------------------------------------------------------------------------


def _engine(storage: optuna.storages.BaseStorage) -> Any:
    return getattr(storage, "engine", None)


def _read(storage: optuna.storages.BaseStorage, read: Callable[[Connection], T]) -> T:
    """Run ``read`` on one connection, retried like every storage call (so a caller's
    :func:`store.resilience.deadline` bounds it)."""
    engine = _engine(storage)

    def attempt() -> T:
        with engine.connect() as conn:
            return read(conn)

    return retry(attempt)


# --- journal files: Optuna's API (see store.views_journal) ----------------------------------


def _journal_list(storage: optuna.storages.BaseStorage, offset: int, limit: int) -> StudyPage:
    rows = journal.study_rows(storage)
    items = [_summary(row) for row, _ in rows[offset : offset + limit]]
    return StudyPage(len(rows), offset, limit, items)


def _journal_find(
    storage: optuna.storages.BaseStorage, name: str
) -> tuple[sql.StudyRow, list[FrozenTrial]]:
    found = journal.study_rows(storage, name)
    if not found:
        raise _not_found(name, journal.study_exists(storage, name))
    return found[0]


def _journal_detail(storage: optuna.storages.BaseStorage, name: str) -> StudyDetail:
    row, trials = _journal_find(storage, name)
    top = journal.best_trial(trials, row.direction)
    best = None
    if top is not None:
        curve = _curve(top.user_attrs.get(attrs.EPOCH_VALUES))
        best = BestTrial(top.number, top.values[0], dict(top.params), curve)
    marks = storage.get_study_user_attrs(row.study_id)
    return _detail(_summary(row), row.spec or {}, best, marks)


def _journal_trials(
    storage: optuna.storages.BaseStorage,
    name: str,
    states: Sequence[TrialState],
    offset: int,
    limit: int,
) -> TrialPage:
    _, trials = _journal_find(storage, name)
    chosen = sorted((t for t in trials if not states or t.state in states), key=lambda t: t.number)
    items = [
        _trial_view(
            t.number,
            t.state,
            dict(t.params),
            t.values[0] if t.values else None,
            t.user_attrs,
            journal.utc(t.datetime_start),
            journal.utc(t.datetime_complete),
        )
        for t in chosen[offset : offset + limit]
    ]
    return TrialPage(len(chosen), offset, limit, items)
