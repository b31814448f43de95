"""How an epoch is driven: one jitted program per epoch, or one per batch step.

``scan`` shuffles and then runs every batch under ``lax.scan`` (one program per epoch);
``unrolled`` is the same scan fully unrolled; ``steps`` runs one jitted program per batch
from Python over the device-resident data, with the order and keys computed on the device
exactly as the scan computes them, so every loop gives the same numbers. Which loop a run
uses is ``pcsearch.training.epoch_loop``'s choice (measured per backend and model family).

The data sits on the device as arguments (not constants), the trial-varying
hyperparameters are traced, and the epoch index (and, in ``steps``, the batch index) is
an array, so every epoch of every trial with the same structure runs the same compiled
program.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms import Algorithm, StepInput
from pcsearch.catalogue import Augmentation
from pcsearch.data.augment import augment_with
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel
from pcsearch.optim import WeightOptimizer
from pcsearch.training.epoch_loop import EPOCH_LOOPS, EpochLoop
from pcsearch.training.evaluation import Evaluation


class Trial(NamedTuple):
    """What one trial carries from epoch to epoch. Trials trained together stack it along
    a leading axis; one trial is the case K = 1."""

    model: PCModel
    opt_state: optax.OptState
    hp: TracedHyperparameters
    key: jax.Array
    """The run's key: each epoch, and each evaluation, folds in its own index."""


EVAL_KEY = 2**31 - 2
"""Folded into a run's key (then the epoch) for the test-set evaluation's randomness."""


def epoch_order(data_key: jax.Array, examples: int, batch_size: int) -> jax.Array:
    """The epoch's batches of example indices, [batches, batch_size]; the last incomplete
    batch is dropped (shuffling changes which examples that is)."""
    num_batches = examples // batch_size
    order = jax.random.permutation(data_key, examples)[: num_batches * batch_size]
    return order.reshape(num_batches, batch_size)


def epoch_keys(
    trial_key: jax.Array, epoch: jax.Array, num_batches: int
) -> tuple[jax.Array, jax.Array]:
    """One key per batch, [batches, 2], and the epoch's own key (nudging signs)."""
    batch_key, epoch_key = jax.random.split(jax.random.fold_in(trial_key, epoch))
    return jax.random.split(batch_key, num_batches), epoch_key


def batch_step(
    algorithm: Algorithm,
    weight_optimizer: WeightOptimizer,
    augmentation: Augmentation,
    model: PCModel,
    opt_state: optax.OptState,
    hp: TracedHyperparameters,
    index: jax.Array,
    key: jax.Array,
    epoch: jax.Array,
    epoch_key: jax.Array,
    x: jax.Array,
    y: jax.Array,
) -> tuple[PCModel, optax.OptState, jax.Array]:
    """One training step on the examples ``index``: the body of every epoch loop."""
    xb = x[index]
    if augmentation.active:
        key, k_aug = jax.random.split(key)
        xb = augment_with(k_aug, xb, augmentation)
    batch = StepInput(xb, y[index], key, epoch, epoch_key)
    return algorithm.train_step(model, opt_state, weight_optimizer.build(hp), hp, batch)


def epoch_step(
    algorithm: Algorithm,
    weight_optimizer: WeightOptimizer,
    batch_size: int,
    augmentation: Augmentation,
    trial: Trial,
    data_key: jax.Array,
    epoch: jax.Array,
    x: jax.Array,
    y: jax.Array,
    unroll: int | bool = 1,
) -> tuple[Trial, jax.Array]:
    """Train one epoch under ``lax.scan``; returns the trial with its new model and
    optimiser state, and the mean layer energies.

    ``data_key`` orders the data and the trial's key drives everything else (state noise,
    nudging signs). Batched trials share the data order, so their input-layer products
    become one wide matrix product instead of K small ones. An active ``augmentation``
    (static: one program per kind) crops and flips every batch on the device. ``unroll``
    is the scan's (``True``: the whole epoch unrolled).
    """
    order = epoch_order(data_key, x.shape[0], batch_size)
    keys, epoch_key = epoch_keys(trial.key, epoch, order.shape[0])

    def body(carry, inputs):
        m, s = carry
        index, k = inputs
        m, s, energies = batch_step(
            algorithm,
            weight_optimizer,
            augmentation,
            m,
            s,
            trial.hp,
            index,
            k,
            epoch,
            epoch_key,
            x,
            y,
        )
        return (m, s), energies

    (model, opt_state), energies = jax.lax.scan(
        body, (trial.model, trial.opt_state), (order, keys), unroll=unroll
    )
    return trial._replace(model=model, opt_state=opt_state), jnp.mean(energies, axis=0)


def evaluate(
    evaluation: Evaluation,
    algorithm: Algorithm,
    trial: Trial,
    epoch: jax.Array,
    x: jax.Array,
    labels: jax.Array,
) -> dict[str, jax.Array]:
    """The task's evaluation on the whole test set (see ``pcsearch.training.evaluation``)."""
    key = jax.random.fold_in(jax.random.fold_in(trial.key, EVAL_KEY), epoch)
    return evaluation(algorithm, trial.model, trial.hp, x, labels, key)


def init_opt_state(weight_optimizer: WeightOptimizer, model: PCModel, hp: TracedHyperparameters):
    return weight_optimizer.build(hp).init(eqx.filter(model, eqx.is_array))


def _only(trials: Trial) -> Trial:
    return jax.tree.map(lambda a: a[0], trials)


def _stacked(value):
    return jax.tree.map(lambda a: a[None], value)


@eqx.filter_jit
def _train_one(algorithm, weight_optimizer, batch_size, augmentation, unroll, trials, *shared):
    trial, energies = epoch_step(
        algorithm, weight_optimizer, batch_size, augmentation, _only(trials), *shared, unroll
    )
    return _stacked(trial), energies[None]


@eqx.filter_jit
def _evaluate_one(evaluation, algorithm, trials: Trial, *shared):
    return _stacked(evaluate(evaluation, algorithm, _only(trials), *shared))


def _epoch_step_many(algorithm, weight_optimizer, batch_size, augmentation, unroll, trial, *shared):
    return epoch_step(algorithm, weight_optimizer, batch_size, augmentation, trial, *shared, unroll)


# K trials at once: the trial carries a leading axis; the structure, the data order, the
# epoch index and the data are shared.
_train_many = eqx.filter_jit(
    eqx.filter_vmap(_epoch_step_many, in_axes=(None,) * 5 + (0,) + (None,) * 4)
)
_evaluate_many = eqx.filter_jit(
    eqx.filter_vmap(evaluate, in_axes=(None, None, 0, None, None, None))
)


# ---------------------------------------------------------------- the ``steps`` loop


@eqx.filter_jit
def _step_plan(batch_size: int, trials: Trial, data_key, epoch, x):
    """The epoch's order, each trial's batch keys [K, batches, 2] and epoch keys [K, 2]:
    the very values ``epoch_step`` computes, so ``steps`` gives the scan's numbers."""
    order = epoch_order(data_key, x.shape[0], batch_size)
    keys, epoch_key = jax.vmap(epoch_keys, in_axes=(0, None, None))(
        trials.key, epoch, order.shape[0]
    )
    return order, keys, epoch_key


def _member_step(fixed: tuple, trial: Trial, keys: jax.Array, epoch_key: jax.Array) -> tuple:
    """One batch step of one trial, with its own batch keys [batches, 2] and epoch key."""
    algorithm, weight_optimizer, augmentation, order, _, _, i, epoch, x, y = fixed
    model, opt_state, energies = batch_step(
        algorithm,
        weight_optimizer,
        augmentation,
        trial.model,
        trial.opt_state,
        trial.hp,
        order[i],
        keys[i],
        epoch,
        epoch_key,
        x,
        y,
    )
    return trial._replace(model=model, opt_state=opt_state), energies


def _one_step(fixed: tuple, trials: Trial):
    """One batch step of one trial (``trials`` has a leading axis of 1), without a vmap."""
    _, _, _, _, keys, epoch_key, *_ = fixed
    trial, energies = _member_step(fixed, _only(trials), keys[0], epoch_key[0])
    return _stacked(trial), energies[None]


def _many_steps(fixed: tuple, trials: Trial):
    """One batch step of K trials: vmapped over the trials, their keys and epoch keys."""
    _, _, _, _, keys, epoch_key, *_ = fixed
    return jax.vmap(lambda t, k, ek: _member_step(fixed, t, k, ek))(trials, keys, epoch_key)


# The trials' buffers (model, optimiser state) are donated: each step updates them in place.
_step_one = eqx.filter_jit(_one_step, donate="all-except-first")
_step_many = eqx.filter_jit(_many_steps, donate="all-except-first")


@jax.jit
def _mean_energies(energies: list[jax.Array]) -> jax.Array:
    return jnp.mean(jnp.stack(energies), axis=0)


def _train_steps(
    algorithm, weight_optimizer, batch_size, augmentation, trials, data_key, epoch, x, y
):
    order, keys, epoch_key = _step_plan(batch_size, trials, data_key, epoch, x)
    step = _step_one if trials.key.shape[0] == 1 else _step_many
    energies = []
    for i in range(order.shape[0]):
        fixed = (
            algorithm,
            weight_optimizer,
            augmentation,
            order,
            keys,
            epoch_key,
            jnp.int32(i),
            epoch,
            x,
            y,
        )
        trials, e = step(fixed, trials)
        energies.append(e)
    return trials, _mean_energies(energies)


def train_epochs(
    algorithm,
    weight_optimizer,
    batch_size,
    augmentation,
    trials: Trial,
    *shared,
    loop: EpochLoop = "scan",
) -> tuple[Trial, jax.Array]:
    """One epoch of K stacked trials, driven by ``loop``; the same numbers from every loop.

    K = 1 compiles without the member axis (the same numbers; on a CPU a one-member vmap
    is up to a quarter slower). ``steps`` donates ``trials``: use the returned ones.
    """
    if loop not in EPOCH_LOOPS:
        raise ValueError(f"loop={loop!r} is not an epoch loop; choose one of {EPOCH_LOOPS}")
    if loop == "steps":
        return _train_steps(algorithm, weight_optimizer, batch_size, augmentation, trials, *shared)
    unroll = loop == "unrolled"
    run = _train_one if trials.key.shape[0] == 1 else _train_many
    return run(algorithm, weight_optimizer, batch_size, augmentation, unroll, trials, *shared)


def evaluate_trials(evaluation, algorithm, trials: Trial, *shared) -> dict[str, jax.Array]:
    """``evaluate`` for K stacked trials (K = 1 without the member axis, as above)."""
    run = _evaluate_one if trials.key.shape[0] == 1 else _evaluate_many
    return run(evaluation, algorithm, trials, *shared)


# Energies per inference step, on request (see ``PredictiveCoding.energy_trace``).
trace_trials = eqx.filter_jit(
    eqx.filter_vmap(
        lambda algorithm, *args: algorithm.energy_trace(*args),
        in_axes=(None, 0, None, None, 0, 0),
    )
)
