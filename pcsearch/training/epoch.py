"""One jitted program per epoch: shuffle, then every batch under ``lax.scan``.

The data sits on the device as arguments (not constants), the trial-varying
hyperparameters are traced, and the epoch index is an array, so every epoch of every
trial with the same structure runs the same compiled program.
"""

from __future__ import annotations

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


def epoch_step(
    algorithm: Algorithm,
    weight_optimizer: WeightOptimizer,
    batch_size: int,
    augmentation: Augmentation,
    model: PCModel,
    opt_state: optax.OptState,
    hp: TracedHyperparameters,
    key: jax.Array,
    data_key: jax.Array,
    epoch: jax.Array,
    x: jax.Array,
    y: jax.Array,
) -> tuple[PCModel, optax.OptState, jax.Array]:
    """Train one epoch; returns the new model, optimiser state and mean layer energies.

    ``data_key`` orders the data and ``key`` drives everything else (state noise, nudging
    signs). Batched trials share the data order, so their input-layer products become one
    wide matrix product instead of K small ones. The last incomplete batch is dropped;
    shuffling changes which examples that is. An active ``augmentation`` (static: one
    program per kind) crops and flips every batch on the device, as the task says.
    """
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
    return model, opt_state, jnp.mean(energies, axis=0)


def evaluate(
    evaluation: Evaluation,
    algorithm: Algorithm,
    model: PCModel,
    hp: TracedHyperparameters,
    x: jax.Array,
    labels: jax.Array,
    key: jax.Array,
) -> dict[str, jax.Array]:
    """The task's evaluation on the whole test set (see ``pcsearch.training.evaluation``)."""
    return evaluation(algorithm, model, hp, x, labels, key)


def init_opt_state(weight_optimizer: WeightOptimizer, model: PCModel, hp: TracedHyperparameters):
    return weight_optimizer.build(hp).init(eqx.filter(model, eqx.is_array))


train_epoch = eqx.filter_jit(epoch_step)
evaluate_jit = eqx.filter_jit(evaluate)

# K trials at once: models, optimiser states, hyperparameters and keys carry a leading
# axis; the structure, the data order, the epoch index and the data are shared.
_MEMBER = (None, None, None, None, 0, 0, 0, 0, None, None, None, None)
train_epoch_batched = eqx.filter_jit(eqx.filter_vmap(epoch_step, in_axes=_MEMBER))
evaluate_batched = eqx.filter_jit(
    eqx.filter_vmap(evaluate, in_axes=(None, None, 0, 0, None, None, 0))
)

# Energies per inference step, on request (see ``PredictiveCoding.energy_trace``).
trace_jit = eqx.filter_jit(lambda algorithm, *args: algorithm.energy_trace(*args))
trace_batched = eqx.filter_jit(
    eqx.filter_vmap(
        lambda algorithm, *args: algorithm.energy_trace(*args),
        in_axes=(None, 0, None, None, 0, 0),
    )
)
