"""One jitted program per epoch: shuffle, then every batch under ``lax.scan``.

The data sits on the device as arguments (not constants), the trial-varying
hyperparameters are traced, and the epoch index is an array, so every epoch of every
trial with the same structure runs the same compiled program.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms import Algorithm, StepInput
from pcsearch.catalogue import Augmentation
from pcsearch.data.augment import augment_batch
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel
from pcsearch.optim import WeightOptimizer
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
) -> tuple[Trial, jax.Array]:
    """Train one epoch; returns the trial with its new model and optimiser state, and the
    mean layer energies.

    ``data_key`` orders the data and the trial's key drives everything else (state noise,
    nudging signs). Batched trials share the data order, so their input-layer products
    become one wide matrix product instead of K small ones. The last incomplete batch is
    dropped; shuffling changes which examples that is. An active ``augmentation``
    (static: one program per kind) crops and flips every batch on the device.
    """
    model, opt_state, hp = trial.model, trial.opt_state, trial.hp
    key = jax.random.fold_in(trial.key, epoch)
    num_batches = x.shape[0] // batch_size
    batch_key, epoch_key = jax.random.split(key)
    order = jax.random.permutation(data_key, x.shape[0])[: num_batches * batch_size]
    order = order.reshape(num_batches, batch_size)
    optimizer = weight_optimizer.build(hp)

    def body(carry, inputs):
        m, s = carry
        index, k = inputs
        xb = x[index]
        if augmentation.active:
            k, k_aug = jax.random.split(k)
            xb = augment_batch(
                k_aug,
                xb,
                padding=augmentation.padding,
                crop=augmentation.crop,
                flip=augmentation.flip,
            )
        batch = StepInput(xb, y[index], k, epoch, epoch_key)
        m, s, energies = algorithm.train_step(m, s, optimizer, hp, batch)
        return (m, s), energies

    keys = jax.random.split(batch_key, num_batches)
    (model, opt_state), energies = jax.lax.scan(body, (model, opt_state), (order, keys))
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
def _train_one(algorithm, weight_optimizer, batch_size, augmentation, trials: Trial, *shared):
    trial, energies = epoch_step(
        algorithm, weight_optimizer, batch_size, augmentation, _only(trials), *shared
    )
    return _stacked(trial), energies[None]


@eqx.filter_jit
def _evaluate_one(evaluation, algorithm, trials: Trial, *shared):
    return _stacked(evaluate(evaluation, algorithm, _only(trials), *shared))


# K trials at once: the trial carries a leading axis; the structure, the data order, the
# epoch index and the data are shared.
_train_many = eqx.filter_jit(
    eqx.filter_vmap(epoch_step, in_axes=(None, None, None, None, 0, None, None, None, None))
)
_evaluate_many = eqx.filter_jit(
    eqx.filter_vmap(evaluate, in_axes=(None, None, 0, None, None, None))
)


def train_epochs(
    algorithm, weight_optimizer, batch_size, augmentation, trials: Trial, *shared
) -> tuple[Trial, jax.Array]:
    """``epoch_step`` for K stacked trials. K = 1 compiles the step without the member
    axis (the same numbers; on a CPU a one-member vmap is up to a quarter slower)."""
    run = _train_one if trials.key.shape[0] == 1 else _train_many
    return run(algorithm, weight_optimizer, batch_size, augmentation, trials, *shared)


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
