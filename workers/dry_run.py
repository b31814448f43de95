"""Trials without training, for plumbing checks and storage benchmarks.

With ``PCSEARCH_WORKER_DRY_RUN=1`` a worker claims, reports and tells trials exactly as
usual, but each "run" only waits ``PCSEARCH_DRY_RUN_EPOCH_SECONDS`` per epoch and reports
a made-up metric drawn from the trial's seed. Results are marked ``dry_run`` in their
environment attribute. Nothing here imports JAX.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pcsearch.catalogue import task_info
from pcsearch.params import resolve
from pcsearch.training.records import EpochRecord, RunResult
from store.settings import settings


def train(
    task: str,
    algorithm: str,
    params: Mapping[str, Any],
    *,
    seed: int = 0,
    data_seed: int | None = None,
    data_dir: str | None = None,
    on_epoch: Callable[[EpochRecord], bool | None] | None = None,
    energy_trace: bool = False,
    synthetic: bool = False,
    max_batches: int | None = None,
    epoch_loop: str = "auto",
) -> RunResult:
    info = task_info(task)
    resolved = resolve(task, algorithm, params)
    level = random.Random(seed).random()
    result = RunResult(
        task=task,
        algorithm=algorithm,
        params=resolved,
        seed=seed,
        metric=info.metric,
        direction=info.direction,
        data_seed=seed if data_seed is None else data_seed,
        environment={"dry_run": "true", "device": "none"},
    )
    pause = settings().dry_run_epoch_seconds
    for epoch in range(1, int(resolved["epochs"]) + 1):
        time.sleep(pause)
        record = EpochRecord(epoch, level * epoch / resolved["epochs"], [0.0], pause)
        result.history.append(record)
        result.value = record.value
        result.best_value, result.best_epoch = record.value, epoch  # the level only rises
        if on_epoch is not None and on_epoch(record):
            result.status = "stopped"
            break
    return result


def train_batched(
    task: str,
    algorithm: str,
    members: Sequence[Mapping[str, Any]],
    *,
    seeds: Sequence[int],
    data_seed: int = 0,
    data_dir: str | None = None,
    on_epoch: Callable[[int, EpochRecord], bool | None] | None = None,
    energy_trace: bool = False,
    synthetic: bool = False,
    max_batches: int | None = None,
    epoch_loop: str = "auto",
) -> list[RunResult]:
    return [
        train(
            task,
            algorithm,
            member,
            seed=seed,
            data_seed=data_seed,
            on_epoch=None if on_epoch is None else (lambda r, i=i: on_epoch(i, r)),
        )
        for i, (member, seed) in enumerate(zip(members, seeds, strict=True))
    ]
