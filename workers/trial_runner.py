"""One trial (or a batch of trials) from sampled parameters to a told result.

Everything a researcher looks at later is stored on the trial as user attributes:
per-epoch metric, energy per layer, epoch times, status and reason, seed, versions and
device. A diverged run ends as PRUNED with its reason; it never crashes the worker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

from workers.config import StudyConfig


def trial_seed(config: StudyConfig, trial: optuna.Trial) -> int:
    return config.seed * 100_003 + trial.number


def training_params(config: StudyConfig, trial: optuna.Trial) -> dict[str, Any]:
    params = config.search_space().suggest(trial, config.algorithm)
    return {**params, **config.overrides}


class TrialRecorder:
    """Writes a run's progress onto its trial and asks the pruner after every epoch."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial
        self.values: list[float | None] = []
        self.energies: list[list[float]] = []
        self.seconds: list[float] = []

    def __call__(self, record) -> bool:
        self.values.append(record.value)
        self.energies.append(record.energy_per_layer)
        self.seconds.append(record.seconds)
        self.trial.set_user_attr("epoch_values", self.values)
        self.trial.set_user_attr("energy_per_layer", self.energies)
        self.trial.set_user_attr("epoch_seconds", self.seconds)
        self.trial.report(record.value, step=record.epoch)
        return self.trial.should_prune()


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def finish(study: optuna.Study, trial: optuna.Trial, result) -> TrialState:
    """Store the result's summary and tell the study how the trial ended.

    The history is written again from the result, so the epoch a run diverged in is kept
    too (non-finite numbers stored as null).
    """
    history = result.history
    trial.set_user_attr("epoch_values", [_finite_or_none(h.value) for h in history])
    trial.set_user_attr(
        "energy_per_layer", [[_finite_or_none(e) for e in h.energy_per_layer] for h in history]
    )
    trial.set_user_attr("epoch_seconds", [h.seconds for h in history])
    trial.set_user_attr("status", result.status)
    trial.set_user_attr("environment", result.environment)
    trial.set_user_attr("seed", result.seed)
    trial.set_user_attr("data_seed", result.data_seed)
    trial.set_user_attr("resolved_params", result.params)
    if result.reason:
        trial.set_user_attr("reason", result.reason)
    if result.status == "completed":
        study.tell(trial, result.value)
        return TrialState.COMPLETE
    study.tell(trial, state=TrialState.PRUNED)
    return TrialState.PRUNED


def run_trial(
    study: optuna.Study, trial: optuna.Trial, params: dict[str, Any], config: StudyConfig
) -> TrialState:
    from pcsearch.training import train

    recorder = TrialRecorder(trial)
    result = train(
        config.task,
        config.algorithm,
        params,
        seed=trial_seed(config, trial),
        data_seed=config.seed,
        data_dir=config.data_dir,
        on_epoch=recorder,
    )
    return finish(study, trial, result)


def run_batch(
    study: optuna.Study,
    trials: Sequence[optuna.Trial],
    members: Sequence[dict[str, Any]],
    config: StudyConfig,
) -> list[TrialState]:
    """K trials that share their structural parameters, trained in one vmapped program."""
    from pcsearch.training import train_batched

    recorders = [TrialRecorder(t) for t in trials]
    results = train_batched(
        config.task,
        config.algorithm,
        members,
        seeds=[trial_seed(config, t) for t in trials],
        data_seed=config.seed,
        data_dir=config.data_dir,
        on_epoch=lambda i, record: recorders[i](record),
    )
    return [finish(study, t, r) for t, r in zip(trials, results, strict=True)]
