"""Samplers and pruners by their CLI/API names."""

from __future__ import annotations

import optuna

from workers.config import StudyConfig


class WorkerGridSampler(optuna.samplers.GridSampler):
    """A grid sampler for workers: they tell trials outside ``study.optimize``, where the
    ``study.stop()`` of ``GridSampler.after_trial`` raises RuntimeError once the grid is
    covered; the study's ``n_trials`` already bounds the work, so skip that stop."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def make_sampler(config: StudyConfig, worker_seed: int) -> optuna.samplers.BaseSampler:
    """The study's sampler; ``worker_seed`` keeps parallel workers from proposing twins."""
    if config.sampler == "random":
        return optuna.samplers.RandomSampler(seed=worker_seed)
    if config.sampler == "grid":
        grid = config.search_space().grid(config.algorithm)
        return WorkerGridSampler(grid, seed=worker_seed)
    if config.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(
            seed=worker_seed, independent_sampler=optuna.samplers.TPESampler(seed=worker_seed)
        )
    return optuna.samplers.TPESampler(seed=worker_seed, multivariate=True, constant_liar=True)


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    epochs = int(config.overrides.get("epochs", 0)) or None
    if config.pruner == "none":
        return optuna.pruners.NopPruner()
    if config.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if config.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs or "auto")
    return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
