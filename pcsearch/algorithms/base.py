"""The interface every training algorithm shares.

An algorithm is a small Equinox module whose fields are all static configuration (T,
output loss, ...). Its ``train_step`` is pure: it takes the model, the weight optimiser's
state and the traced hyperparameters, and returns the new model, optimiser state and the
energy of every layer averaged over the batch.
"""

from __future__ import annotations

import abc
from typing import NamedTuple

import equinox as eqx
import jax
import optax

from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel


class StepInput(NamedTuple):
    x: jax.Array
    """Inputs, [batch, features]."""
    y: jax.Array
    """One-hot labels, [batch, classes]."""
    key: jax.Array
    """Randomness for this batch (state initialisation, noise)."""
    epoch: jax.Array
    """Index of the epoch, from 0 (for per-epoch schedules such as beta)."""
    epoch_key: jax.Array
    """Randomness shared by the whole epoch (centered nudging's sign)."""


class Algorithm(eqx.Module):
    @abc.abstractmethod
    def train_step(
        self,
        model: PCModel,
        opt_state: optax.OptState,
        weight_optimizer: optax.GradientTransformation,
        hp: TracedHyperparameters,
        batch: StepInput,
    ) -> tuple[PCModel, optax.OptState, jax.Array]: ...

    def weight_updates_per_batch(self) -> int:
        """How many weight updates one batch makes (sets the length of the lr schedule)."""
        return 1


def apply_weight_gradient(
    model: PCModel,
    grads: PCModel,
    opt_state: optax.OptState,
    weight_optimizer: optax.GradientTransformation,
) -> tuple[PCModel, optax.OptState]:
    params = eqx.filter(model, eqx.is_array)
    updates, opt_state = weight_optimizer.update(grads, opt_state, params)
    return eqx.apply_updates(model, updates), opt_state
