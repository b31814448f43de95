"""Samplers and pruners by their CLI/API names (one registry each), and each worker's own
random stream.

Every worker process of a study draws from a stream of its own: on first sight of a
study it registers under the study's slot lock and gets an ordinal (0 for the study's
first worker, then 1, 2, ...), and its sampler's seed is a hash of the study's seed, the
study's name and that ordinal (plus the worker's ``--seed`` salt, if any). So no two
processes, on one machine or many, share a stream, and a study run by one worker draws
the same sequence every time it is run from scratch with the same seed and name.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import optuna
from optuna.samplers._grid import GridValueType
from optuna.trial import FrozenTrial, TrialState

from store.attrs import FIXED_PARAMS, GRID_POINT, ORDINAL_PREFIX
from store.leases import worker_id
from store.storage import LockLost, slot_lock

if TYPE_CHECKING:  # store.config reads the names of SAMPLERS and PRUNERS from here
    from store.config import StudyConfig

log = logging.getLogger("pcsearch.worker")

GRID_DECIMALS = 10
_instances = itertools.count()


def sampler_identity() -> str:
    """Who registers for an ordinal: this process (``host:pid``), which of its workers
    (tests hold several), and a random tag, so that a later process given the same pid
    never takes over an earlier one's ordinal (and replays its stream)."""
    return f"{worker_id()}#{next(_instances)}-{secrets.token_hex(4)}"


def sampler_seed(study_seed: int, study_name: str, ordinal: int, salt: int | None = None) -> int:
    """A 32-bit seed (what NumPy takes) from everything that makes a stream distinct."""
    text = f"{study_seed}\x00{study_name}\x00{ordinal}"
    if salt is not None:
        text += f"\x00{salt}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def register(study: optuna.Study, url: str, identity: str) -> int:
    """This worker's ordinal on the study, taken under the slot lock so that no two
    workers anywhere get the same one; asking again returns the same ordinal."""
    key = ORDINAL_PREFIX + identity
    storage, study_id = study._storage, study._study_id
    while True:
        try:
            with slot_lock(url, study.study_name):
                known = storage.get_study_system_attrs(study_id)
                mine = known.get(key)
                others = [v for k, v in known.items() if k.startswith(ORDINAL_PREFIX) and k != key]
                if isinstance(mine, int) and mine not in others:
                    return mine
                # New, or shared after a lost lock let two workers in at once: take the next.
                ordinal = max([v for v in others if isinstance(v, int)], default=-1) + 1
                storage.set_study_system_attr(study_id, key, ordinal)
            return ordinal
        except LockLost:
            log.warning("slot lock lost while registering on study %s; again", study.study_name)


def study_sampler(
    study: optuna.Study, url: str, config: StudyConfig, salt: int | None, identity: str
) -> optuna.samplers.BaseSampler:
    """The sampler this worker uses on ``study``: its own stream (see the module doc)."""
    ordinal = register(study, url, identity)
    seed = sampler_seed(config.seed, study.study_name, ordinal, salt)
    log.info("study %s: sampler stream %d of the study (seed %d)", study.study_name, ordinal, seed)
    return make_sampler(config, seed, sampler_seed(config.seed, study.study_name, -1))


def make_sampler(
    config: StudyConfig, worker_seed: int, order_seed: int | None = None
) -> optuna.samplers.BaseSampler:
    """The study's sampler; ``worker_seed`` keeps parallel workers from proposing twins.
    ``order_seed`` (default: the study's seed) orders a grid, the same in every worker."""
    return SAMPLERS[config.sampler].build(
        config, worker_seed, config.seed if order_seed is None else order_seed
    )


def _tpe(config: StudyConfig, seed: int, order_seed: int) -> optuna.samplers.BaseSampler:
    # constant liar: parallel workers see each other's running trials as bad (Optuna's advice)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def _random(config: StudyConfig, seed: int, order_seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _grid(config: StudyConfig, seed: int, order_seed: int) -> optuna.samplers.BaseSampler:
    return WorkerGridSampler(config.search_space().grid(config.algorithm), seed=order_seed)


def _cmaes(config: StudyConfig, seed: int, order_seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.CmaEsSampler(
        seed=seed, independent_sampler=optuna.samplers.TPESampler(seed=seed)
    )


SamplerBuilder = Callable[["StudyConfig", int, int], optuna.samplers.BaseSampler]


class SamplerEntry(NamedTuple):
    title: str
    """How people read it (a study's one-line description)."""
    build: SamplerBuilder
    """(config, this worker's seed, the grid's order seed) -> sampler."""


SAMPLERS: dict[str, SamplerEntry] = {
    "tpe": SamplerEntry("TPE", _tpe),
    "random": SamplerEntry("random", _random),
    "grid": SamplerEntry("grid", _grid),
    "cmaes": SamplerEntry("CMA-ES", _cmaes),
}
"""Samplers by their CLI/API name (the first is the default). ``store.config`` checks names
against this."""


def _value_key(value: Any) -> Any:
    return round(value, GRID_DECIMALS) if isinstance(value, float) else value


class WorkerGridSampler(optuna.samplers.GridSampler):
    """A grid sampler for a fleet: every point once, whatever the number of workers.

    The point is chosen when the trial is created, which :mod:`workers.claim` does under
    the study's slot lock, and written on the trial by value (``pcsearch:grid_point``), so
    the next worker sees it taken before any parameter is sampled. Points are matched by
    value, never by Optuna's ``grid_id`` (an index into a per-process shuffle). A point
    counts as taken by a COMPLETE, PRUNED, RUNNING or WAITING trial (a queued retry holds
    its point); a point whose trials all failed is taken again before any point repeats.

    Workers tell trials outside ``study.optimize``, where the ``study.stop()`` of
    ``GridSampler.after_trial`` raises RuntimeError once the grid is covered; the study's
    ``n_trials`` already bounds the work, so that stop is skipped.
    """

    def __init__(
        self, search_space: Mapping[str, Sequence[GridValueType]], seed: int | None = None
    ) -> None:
        super().__init__(search_space, seed=seed)
        self._index = {
            self._point_key(dict(zip(self._param_names, g, strict=True))): i
            for i, g in enumerate(self._all_grids)
        }

    def _point_key(self, values: Mapping[str, Any]) -> tuple | None:
        if any(name not in values for name in self._param_names):
            return None
        return tuple(_value_key(values[name]) for name in self._param_names)

    def _point_of(self, trial: FrozenTrial) -> int | None:
        system = trial.system_attrs
        for values in (system.get(GRID_POINT), system.get(FIXED_PARAMS), trial.params):
            if isinstance(values, Mapping):
                found = self._index.get(self._point_key(values))
                if found is not None:
                    return found
        return None

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if "grid_id" in trial.system_attrs or FIXED_PARAMS in trial.system_attrs:
            return  # a queued trial (a retry) brings its own point
        taken: dict[int, int] = {}
        failed: set[int] = set()
        for other in study._storage.get_all_trials(study._study_id, deepcopy=False):
            point = None if other._trial_id == trial._trial_id else self._point_of(other)
            if point is None:
                continue
            if other.state == TrialState.FAIL:
                failed.add(point)
            else:
                taken[point] = taken.get(point, 0) + 1
        points = range(len(self._all_grids))
        free = [i for i in points if i not in taken and i not in failed]
        free = free or [i for i in points if i not in taken]
        if not free:
            log.warning(
                "study %s: all %d grid points are taken; this trial repeats one (the study "
                "asks for more trials than its grid has points)",
                study.study_name,
                len(self._all_grids),
            )
            free = [min(points, key=lambda i: taken.get(i, 0))]
        grid_id = free[0]
        point = dict(zip(self._param_names, self._all_grids[grid_id], strict=True))
        storage = study._storage
        storage.set_trial_system_attr(trial._trial_id, "search_space", self._search_space)
        storage.set_trial_system_attr(trial._trial_id, GRID_POINT, point)
        storage.set_trial_system_attr(trial._trial_id, "grid_id", grid_id)

    def after_trial(self, study, trial, state, values) -> None:
        return None


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    return PRUNERS[config.pruner](config)


def _hyperband(config: StudyConfig) -> optuna.pruners.BasePruner:
    epochs = int(config.overrides.get("epochs", 0)) or None
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs or "auto")


PRUNERS: dict[str, Callable[[StudyConfig], optuna.pruners.BasePruner]] = {
    "median": lambda config: optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
    "halving": lambda config: optuna.pruners.SuccessiveHalvingPruner(),
    "hyperband": _hyperband,
    "none": lambda config: optuna.pruners.NopPruner(),
}
"""Pruners by their CLI/API name (the first is the default); ``store.config`` checks
names against this."""
