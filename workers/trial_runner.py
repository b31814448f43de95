"""One trial (or a batch of trials) from sampled parameters to a told result.

Everything a researcher looks at later is stored on the trial as user attributes:
per-epoch metric, energy per layer, epoch times, status and reason, seed, versions and
device. A diverged run keeps its best epoch's value (the paper's rule) with its status and
reason on the trial; it never crashes the worker.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from store import attrs
from store.config import StudyConfig
from store.settings import settings
from workers import liveness

log = logging.getLogger("pcsearch.worker")
IsLost = Callable[[optuna.Trial], bool]


def _trainer() -> Any:
    """The core's training (JAX), or the dry run of ``PCSEARCH_WORKER_DRY_RUN``."""
    if settings().worker_dry_run:
        from workers import dry_run

        return dry_run
    from pcsearch.training import run

    return run


def trial_seeds(config: StudyConfig, trial: optuna.Trial) -> tuple[int, int]:
    """(seed, data_seed): a rerun trial's own (queued with it), else derived from the
    study's seed and the trial number, with the study's data order."""
    given = trial.user_attrs
    if attrs.SEED in given:
        return int(given[attrs.SEED]), int(given.get(attrs.DATA_SEED, given[attrs.SEED]))
    return config.seed * 100_003 + trial.number, config.seed


def training_params(config: StudyConfig, trial: optuna.Trial) -> dict[str, Any]:
    params = config.search_space().suggest(trial, config.algorithm)
    return {**params, **config.overrides}


class TrialRecorder:
    """Writes a run's progress onto its trial and asks the pruner after every epoch; stops
    the run when the trial's lease was lost (someone else finished the trial)."""

    def __init__(self, trial: optuna.Trial, is_lost: IsLost) -> None:
        self.trial = trial
        self.is_lost = is_lost
        self.values: list[float | None] = []
        self.energies: list[list[float]] = []
        self.seconds: list[float] = []

    def __call__(self, record) -> bool:
        liveness.beat()  # an epoch done: the main thread makes progress
        if self.is_lost(self.trial):
            return True
        self.values.append(record.value)
        self.energies.append(record.energy_per_layer)
        self.seconds.append(record.seconds)
        try:
            _set_attrs(
                self.trial,
                {
                    attrs.EPOCH_VALUES: self.values,
                    attrs.ENERGY_PER_LAYER: self.energies,
                    attrs.EPOCH_SECONDS: self.seconds,
                },
            )
            if record.value is not None:  # None: an epoch the task's mode does not score
                self.trial.report(record.value, step=record.epoch)
        except (UpdateFinishedTrialError, KeyError):
            return True  # finished by someone else, or deleted with its study
        return self.trial.should_prune()


def _set_attrs(trial: optuna.Trial, values: dict[str, Any]) -> None:
    """One write for several attributes where the storage can (see ResilientStorage)."""
    storage = trial.study._storage
    if hasattr(storage, "set_trial_user_attrs"):
        storage.set_trial_user_attrs(trial._trial_id, values)
    else:
        for key, value in values.items():
            trial.set_user_attr(key, value)


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def trial_value(result, objective: str) -> float | None:
    """What Optuna is told: the best epoch's metric (as the paper's code scores a run, also
    for a run that diverged after a good epoch) or the last epoch's; None when there is
    none (a run that diverged in its first epoch, or under ``last``)."""
    if objective == "best":
        return result.best_value
    return result.value if result.status == "completed" else None


def finish(
    study: optuna.Study, trial: optuna.Trial, result, objective: str = "best"
) -> TrialState | None:
    """Store the result's summary and tell the study how the trial ended; None when the
    trial was no longer ours to tell (failed as abandoned, or deleted with its study).

    A completed run, or a diverged one that has a best epoch under ``objective=best``, is
    COMPLETE with its value; the run's own status (``diverged``) and reason stay on the
    trial. Other runs are PRUNED with their reason. The history is written again from the
    result, so the epoch a run diverged in is kept too (non-finite numbers as null).
    """
    history = result.history
    summary = {
        attrs.EPOCH_VALUES: [_finite_or_none(h.value) for h in history],
        attrs.ENERGY_PER_LAYER: [[_finite_or_none(e) for e in h.energy_per_layer] for h in history],
        attrs.EPOCH_SECONDS: [h.seconds for h in history],
        attrs.RUN_STATUS: result.status,
        attrs.ENVIRONMENT: result.environment,
        attrs.SEED: result.seed,
        attrs.DATA_SEED: result.data_seed,
        attrs.RESOLVED_PARAMS: result.params,
    }
    if result.synthetic:
        summary[attrs.SYNTHETIC] = True
    if result.reason:
        summary[attrs.REASON] = result.reason
    if any(h.extra for h in history):
        summary[attrs.EPOCH_METRICS] = [
            {k: _finite_or_none(v) for k, v in h.extra.items()} for h in history
        ]
    if result.best_epoch is not None:
        summary[attrs.BEST_EPOCH] = result.best_epoch
    if result.energy_per_step is not None:
        summary[attrs.ENERGY_PER_STEP] = [
            [_finite_or_none(e) for e in row] for row in result.energy_per_step
        ]
    value = trial_value(result, objective)
    try:
        _set_attrs(trial, summary)
        if result.status in ("completed", "diverged") and value is not None:
            study.tell(trial, value)
            return TrialState.COMPLETE
        study.tell(trial, state=TrialState.PRUNED)
        return TrialState.PRUNED
    except (UpdateFinishedTrialError, KeyError):
        log.warning(
            "trial %d was finished by someone else while it ran (its lease lapsed); "
            "its result (%s, %s) is not stored",
            trial.number,
            result.status,
            result.value,
        )
        return None


def run_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    params: dict[str, Any],
    config: StudyConfig,
    is_lost: IsLost,
) -> TrialState | None:
    train = _trainer().train
    recorder = TrialRecorder(trial, is_lost)
    seed, data_seed = trial_seeds(config, trial)
    result = train(
        config.task,
        config.algorithm,
        params,
        seed=seed,
        data_seed=data_seed,
        data_dir=config.data_dir,
        on_epoch=recorder,
        energy_trace=config.energy_trace,
        synthetic=config.synthetic,
        max_batches=config.max_batches,
        epoch_loop=config.epoch_loop,
    )
    return finish(study, trial, result, config.objective)


def run_batch(
    study: optuna.Study,
    trials: Sequence[optuna.Trial],
    members: Sequence[dict[str, Any]],
    config: StudyConfig,
    is_lost: IsLost,
) -> list[TrialState | None]:
    """K trials that share their structural parameters, trained in one vmapped program
    (they share one data order: the study's)."""
    train_batched = _trainer().train_batched
    recorders = [TrialRecorder(t, is_lost) for t in trials]
    results = train_batched(
        config.task,
        config.algorithm,
        members,
        seeds=[trial_seeds(config, t)[0] for t in trials],
        data_seed=config.seed,
        data_dir=config.data_dir,
        on_epoch=lambda i, record: recorders[i](record),
        energy_trace=config.energy_trace,
        synthetic=config.synthetic,
        max_batches=config.max_batches,
        epoch_loop=config.epoch_loop,
    )
    return [finish(study, t, r, config.objective) for t, r in zip(trials, results, strict=True)]
