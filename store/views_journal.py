"""The read model's rows from a journal file, through Optuna's API, for :mod:`store.views`.

A journal file has no query language: every study's trials are read and counted here.
That is fine for the embedded, local use journals are for; the service runs on Postgres.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from store import attrs
from store.views_sql import StudyRow, as_int


def study_rows(
    storage: optuna.storages.BaseStorage, name: str | None = None
) -> list[tuple[StudyRow, list[FrozenTrial]]]:
    """Pcsearch studies (or the one called ``name``), oldest first, with all their trials."""
    found = []
    for frozen in storage.get_all_studies():
        stored = attrs.stored(frozen)
        config = stored.config
        if not stored.made_by_pcsearch or not isinstance(config, dict):
            continue
        if name not in (None, frozen.study_name):
            continue
        trials = storage.get_all_trials(frozen._study_id, deepcopy=False)
        counts: dict[TrialState, int] = {}
        for t in trials:
            counts[t.state] = counts.get(t.state, 0) + 1
        direction = frozen.directions[0] if frozen.directions else StudyDirection.MAXIMIZE
        best = best_trial(trials, direction)
        row = StudyRow(
            study_id=frozen._study_id,
            name=frozen.study_name,
            task=config.get("task"),
            algorithm=config.get("algorithm"),
            n_trials=as_int(config.get("n_trials")),
            status=stored.control,
            direction=direction,
            counts=counts,
            best=best.values[0] if best is not None else None,
            spec=config,
        )
        found.append((row, trials))
    return found


def study_exists(storage: optuna.storages.BaseStorage, name: str) -> bool:
    return any(s.study_name == name for s in storage.get_all_studies())


def best_trial(trials: Sequence[FrozenTrial], direction: StudyDirection) -> FrozenTrial | None:
    """The best complete trial with a finite value (the earliest on a tie), as SQL picks it."""
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.values and math.isfinite(t.values[0])
    ]
    if not complete:
        return None
    sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
    return min(complete, key=lambda t: (sign * t.values[0], t.number))


def utc(local: dt.datetime | None) -> dt.datetime | None:
    """Optuna hands journal trials' times out as naive local time."""
    return None if local is None else local.astimezone(dt.UTC)
