"""The core's entry point: task + algorithm + hyperparameters in, a result record out.

``train`` runs one configuration; ``train_batched`` runs K configurations that share
their structure (everything but the traced hyperparameters) in one vmapped program,
each member reporting, stopping and diverging on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pcsearch.algorithms import Algorithm, PredictiveCoding, make_algorithm
from pcsearch.catalogue import TaskInfo, task_info
from pcsearch.compile_cache import enable_compilation_cache
from pcsearch.data.augment import center_crop
from pcsearch.errors import PCSearchError
from pcsearch.hyperparams import TRACED_NAMES, TracedHyperparameters
from pcsearch.models import build_model
from pcsearch.optim import WeightOptimizer
from pcsearch.params import resolve
from pcsearch.training.device_data import DeviceData, device_data
from pcsearch.training.environment import environment
from pcsearch.training.epoch import (
    Trial,
    evaluate_trials,
    init_opt_state,
    trace_trials,
    train_epochs,
)
from pcsearch.training.epoch_loop import (
    EpochLoop,
    EpochLoopChoice,
    check_epoch_loop,
    choose_epoch_loop,
    unroll_inference,
)
from pcsearch.training.evaluation import Evaluation
from pcsearch.training.modes import mode_of
from pcsearch.training.records import EpochRecord, RunResult

PROBE_KEY = 2**31 - 1
"""Folded into a run's key for the energy trace's state noise: no epoch uses it."""

EpochCallback = Callable[[EpochRecord], bool | None]
"""Called after every epoch; a truthy return stops the run (e.g. a pruner's verdict)."""
FinishCallback = Callable[["Plan", Any, TracedHyperparameters], None]


@dataclass(frozen=True)
class Plan:
    """Everything about a run that is fixed at compile time, plus the data."""

    task: TaskInfo
    algorithm_name: str
    params: dict[str, Any]
    algorithm: Algorithm
    weight_optimizer: WeightOptimizer
    data: DeviceData
    evaluation: Evaluation

    def new_model_and_state(self, seed: int):
        init_key, run_key = jax.random.split(jax.random.PRNGKey(seed))
        shape = self.task.augmentation.input_shape(self.data.x_train.shape[1:])
        model = build_model(
            self.task.model,
            self.params,
            shape,
            self.data.num_classes,
            init_key,
            getattr(self.algorithm, "clamping", None),
        )
        hp = TracedHyperparameters.from_params(self.params)
        return model, init_opt_state(self.weight_optimizer, model, hp), hp, run_key


def make_plan(
    task: str,
    algorithm: str,
    overrides: Mapping[str, Any] | None,
    data_dir: str | Path | None,
    synthetic: bool = False,
    max_batches: int | None = None,
    data_seed: int = 0,
) -> Plan:
    """Everything a run needs before its first step. ``data_seed`` also draws the images a
    memory task memorises (the runs of a study share them)."""
    enable_compilation_cache()
    info = task_info(task)
    info = replace(info, augmentation=info.augmentation.for_dataset(info.dataset))
    params = resolve(task, algorithm, overrides)
    mode = mode_of(info)
    algo = make_algorithm(algorithm, params, mode.clamping(algorithm))
    data = device_data(
        info.dataset,
        None if data_dir is None else str(data_dir),
        synthetic=synthetic,
        batch_size=params["batch_size"],
        max_batches=max_batches,
        test_crop=info.augmentation.crop,
    )
    if mode.prepare is not None:
        data = mode.prepare(data, info, params, data_seed)
    batches = data.x_train.shape[0] // params["batch_size"]
    if batches == 0:
        raise PCSearchError(
            f"batch_size={params['batch_size']} is larger than the training set of {task} "
            f"({data.x_train.shape[0]} examples); choose a smaller batch_size"
        )
    total = params["epochs"] * batches * algo.weight_updates_per_batch()
    weights = WeightOptimizer(params["weight_optimizer"], total, params["weight_schedule"])
    evaluation = mode.evaluation(info, data.num_classes, params)
    if mode.real_data_scores is not None and not data.synthetic:
        evaluation = mode.real_data_scores(
            evaluation, info, None if data_dir is None else str(data_dir)
        )
    return Plan(info, algorithm, params, algo, weights, data, evaluation)


def _evaluates(plan: Plan, epoch: int) -> bool:
    """Whether ``epoch`` is scored on the test set: every one, or only the last where the
    task's mode says so (see ``ModeSetup.evaluate_every_epoch``)."""
    return mode_of(plan.task).evaluate_every_epoch or epoch == plan.params["epochs"] - 1


def _finish_epoch(
    result: RunResult, epoch: int, energies: np.ndarray, metrics: dict[str, float], seconds: float
) -> EpochRecord:
    """Append the epoch's record; mark the run diverged on non-finite energies or weights.
    An epoch that was not evaluated (no metrics) gets no value and leaves the best alone."""
    finite = bool(np.all(np.isfinite(energies))) and metrics.pop("finite", 1.0) > 0
    value = metrics.pop(result.metric, None) if finite else None
    record = EpochRecord(
        epoch + 1, value, [float(e) for e in energies], seconds, metrics if finite else {}
    )
    result.history.append(record)
    if not finite:
        result.status, result.value = "diverged", None
        result.reason = f"diverged at epoch {epoch + 1}: non-finite energy or weights"
    elif value is not None:
        result.value = value
        improved = result.best_value is None or (
            value > result.best_value
            if result.direction == "maximize"
            else value < result.best_value
        )
        if improved:
            result.best_value, result.best_epoch = value, epoch + 1
    return record


def _new_result(
    plan: Plan, seed: int, data_seed: int, params: dict[str, Any], loop: EpochLoop
) -> RunResult:
    """A result to fill; its environment names the epoch loop that drove it."""
    return RunResult(
        task=plan.task.name,
        algorithm=plan.algorithm_name,
        params=params,
        seed=seed,
        data_seed=data_seed,
        metric=plan.task.metric,
        direction=plan.task.direction,
        environment=environment() | {"epoch_loop": loop},
        synthetic=plan.data.synthetic,
    )


def train(
    task: str,
    algorithm: str,
    params: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    data_seed: int | None = None,
    data_dir: str | Path | None = None,
    on_epoch: EpochCallback | None = None,
    energy_trace: bool = False,
    synthetic: bool = False,
    max_batches: int | None = None,
    on_finish: FinishCallback | None = None,
    epoch_loop: EpochLoopChoice = "auto",
) -> RunResult:
    """Train one configuration; ``params`` are overrides of the task's defaults.

    ``seed`` drives the initial weights and any noise; ``data_seed`` (default: ``seed``)
    the order of the training data. ``energy_trace`` records the energy of every layer at
    every inference step on a probe batch once training ends (PC algorithms).
    ``synthetic`` trains on random data of the task's shapes; ``max_batches`` cuts every
    epoch (and the test set) to that many batches: for timing and smoke runs.
    ``on_finish(plan, model, hp)`` sees the trained model (e.g. to score OOD data).
    ``epoch_loop`` drives the epochs (``auto``: the measured choice for this backend and
    model, see ``pcsearch.training.epoch_loop``); every loop gives the same numbers.

    This is ``train_batched`` with one member: one training loop, one compiled program.
    """
    (result,) = train_batched(
        task,
        algorithm,
        [params or {}],
        seeds=[seed],
        data_seed=seed if data_seed is None else data_seed,
        data_dir=data_dir,
        on_epoch=None if on_epoch is None else lambda _, record: on_epoch(record),
        energy_trace=energy_trace,
        synthetic=synthetic,
        max_batches=max_batches,
        on_finish=on_finish,
        epoch_loop=epoch_loop,
    )
    return result


def _probe(plan: Plan) -> tuple[jax.Array, jax.Array]:
    """The first batch of the training set, in file order: the same probe for every run
    (centre-cropped like the test set where the task crops)."""
    n = plan.params["batch_size"]
    x = plan.data.x_train[:n]
    if plan.task.augmentation.crop is not None:
        x = center_crop(x, plan.task.augmentation.crop)
    return x, plan.data.y_train[:n]


def _row(index: int, stacked: jax.Array) -> jax.Array:
    return stacked[index]


def _floats(metrics: Mapping[str, jax.Array]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()}


def structural_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in TRACED_NAMES}


def epoch_loop_for(plan: Plan, choice: EpochLoopChoice) -> tuple[Plan, EpochLoop]:
    """The loop that drives ``plan``'s epochs on this process's default backend, and the
    plan with its inference steps unrolled where the table says so (the same numbers)."""
    backend, model = jax.default_backend(), plan.task.model
    loop = choose_epoch_loop(choice, backend, model)
    if unroll_inference(backend, model, loop) and isinstance(plan.algorithm, PredictiveCoding):
        plan = replace(plan, algorithm=replace(plan.algorithm, inference_unroll=True))
    return plan, loop


def train_batched(
    task: str,
    algorithm: str,
    members: Sequence[Mapping[str, Any]],
    *,
    seeds: Sequence[int] | None = None,
    data_seed: int = 0,
    data_dir: str | Path | None = None,
    on_epoch: Callable[[int, EpochRecord], bool | None] | None = None,
    energy_trace: bool = False,
    synthetic: bool = False,
    max_batches: int | None = None,
    on_finish: FinishCallback | None = None,
    epoch_loop: EpochLoopChoice = "auto",
) -> list[RunResult]:
    """Train K configurations together; they must differ only in traced hyperparameters.

    The members share one data order (``data_seed``). ``on_epoch(member, record)``
    returning truthy stops that member alone. A member's results equal its own ``train``
    run with the same ``seed`` and ``data_seed``, up to float tolerance.
    ``on_finish(plan, model, hp)`` is called once per member with its trained model.
    ``epoch_loop`` as in ``train``.
    """
    if not members:
        raise PCSearchError("train_batched needs at least one member configuration")
    check_epoch_loop(epoch_loop)
    seeds = list(seeds) if seeds is not None else list(range(len(members)))
    if len(seeds) != len(members):
        raise PCSearchError(f"got {len(seeds)} seeds for {len(members)} members; give one each")
    plans = [
        make_plan(task, algorithm, m, data_dir, synthetic, max_batches, data_seed) for m in members
    ]
    shared = structural_params(plans[0].params)
    for i, p in enumerate(plans[1:], start=1):
        differing = sorted(k for k, v in structural_params(p.params).items() if shared[k] != v)
        if differing:
            raise PCSearchError(
                f"member {i} differs from member 0 in structural hyperparameters {differing}; "
                f"batched members may differ only in {', '.join(TRACED_NAMES)}"
            )
    plan = plans[0]
    plan, loop = epoch_loop_for(plan, epoch_loop)
    starts = [Trial(*p.new_model_and_state(s)) for p, s in zip(plans, seeds, strict=True)]
    trials = jax.tree.map(lambda *xs: jnp.stack(xs), *starts)
    results = [
        _new_result(plan, s, data_seed, p.params, loop) for p, s in zip(plans, seeds, strict=True)
    ]
    data_key = jax.random.PRNGKey(data_seed)
    active = [True] * len(members)
    d = plan.data
    for epoch in range(plan.params["epochs"]):
        start = time.perf_counter()
        trials, energies = train_epochs(
            plan.algorithm,
            plan.weight_optimizer,
            plan.params["batch_size"],
            plan.task.augmentation,
            trials,
            jax.random.fold_in(data_key, epoch),
            jnp.int32(epoch),
            d.x_train,
            d.y_train,
            loop=loop,
        )
        energies = np.asarray(energies)
        seconds = time.perf_counter() - start
        metrics = {}
        if _evaluates(plan, epoch):
            metrics = evaluate_trials(
                plan.evaluation, plan.algorithm, trials, jnp.int32(epoch), d.x_test, d.labels_test
            )
        for i, result in enumerate(results):
            if not active[i]:
                continue
            member_metrics = {k: float(v[i]) for k, v in metrics.items()}
            record = _finish_epoch(result, epoch, energies[i], member_metrics, seconds)
            if result.status == "diverged":
                active[i] = False
            elif on_epoch is not None and on_epoch(i, record):
                result.status, result.reason = "stopped", f"stopped after epoch {epoch + 1}"
                active[i] = False
        if not any(active):
            break
    if energy_trace and isinstance(plan.algorithm, PredictiveCoding):
        x, y = _probe(plan)
        keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(trials.key, PROBE_KEY)
        traces = np.asarray(trace_trials(plan.algorithm, trials.model, x, y, trials.hp, keys))
        for result, trace in zip(results, traces, strict=True):
            result.energy_per_step = [[float(e) for e in row] for row in trace]
    if on_finish is not None:
        for i in range(len(members)):
            member = jax.tree.map(partial(_row, i), trials)
            on_finish(plan, member.model, member.hp)
    return results
