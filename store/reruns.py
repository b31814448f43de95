"""The paper's protocol: a configuration trained again on N seeds, as a study of its own.

A rerun study holds one trial per seed, every hyperparameter fixed, so the same workers
(local processes or the service's fleet) run it, the dashboard shows it, and a crash costs
only the seeds that were running. Its config names the study it repeats and how many of
its best seeds a report keeps (the paper reran on 7 seeds and reported the best 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from pcsearch.catalogue import HYPERPARAMETERS
from pcsearch.params import resolve
from store import attrs, studies
from store.config import StudyConfig
from store.errors import StoreError

SUFFIX = ".seeds"


def rerun_name(source: str) -> str:
    return source + SUFFIX


def best_params(storage: optuna.storages.BaseStorage, name: str) -> tuple[StudyConfig, dict]:
    """A study's config and the full hyperparameters its best trial trained with."""
    study, config = studies.load(storage, name)
    completed = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    if not completed:
        raise StoreError(f"study {name!r} has no completed trial yet; rerun it once one finished")
    best = study.best_trial
    resolved = best.user_attrs.get(attrs.RESOLVED_PARAMS)
    if not isinstance(resolved, dict):
        resolved = resolve(config.task, config.algorithm, {**best.params, **config.overrides})
    return config, dict(resolved)


def fixed_space(task: str, algorithm: str, params: Mapping[str, Any], source: str) -> dict:
    """A search space with every hyperparameter fixed: nothing is sampled."""
    return {
        "name": "fixed",
        "version": 1,
        "source": source,
        "description": "every hyperparameter fixed; the trials differ only in their seed",
        "kind": "bayesian",
        "tasks": [task],
        "algorithms": [algorithm],
        "params": {
            k: {"type": "fixed", "value": v} for k, v in params.items() if k in HYPERPARAMETERS
        },
    }


def rerun_config(
    task: str,
    algorithm: str,
    params: Mapping[str, Any],
    seeds: Sequence[int],
    *,
    keep_best: int | None,
    source: str,
    rerun_of: str | None = None,
    objective: str = "best",
    data_dir: str | None = None,
    energy_trace: bool = False,
) -> StudyConfig:
    resolved = resolve(task, algorithm, params)
    return StudyConfig(
        task=task,
        algorithm=algorithm,
        space=fixed_space(task, algorithm, resolved, source),
        n_trials=len(seeds),
        sampler="random",
        pruner="none",
        seeds=list(seeds),
        keep_best=keep_best,
        rerun_of=rerun_of,
        objective=objective,
        data_dir=data_dir,
        energy_trace=energy_trace,
    )
