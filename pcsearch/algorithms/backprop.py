"""Backprop baselines (BP-SE, BP-CE) on the same models and data pipeline as PC."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms.base import Algorithm, StepInput, apply_weight_gradient
from pcsearch.energy import OutputLoss
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel


class Backprop(Algorithm):
    output_loss: OutputLoss = eqx.field(static=True)

    def loss(self, model: PCModel, x: jax.Array, y: jax.Array) -> jax.Array:
        """Mean over the batch of the per-example loss."""
        return jnp.mean(jax.vmap(lambda xi, yi: self.output_loss(model(xi), yi))(x, y))

    def train_step(
        self,
        model: PCModel,
        opt_state: optax.OptState,
        weight_optimizer: optax.GradientTransformation,
        hp: TracedHyperparameters,
        batch: StepInput,
    ) -> tuple[PCModel, optax.OptState, jax.Array]:
        loss, grads = eqx.filter_value_and_grad(self.loss)(model, batch.x, batch.y)
        model, opt_state = apply_weight_gradient(model, grads, opt_state, weight_optimizer)
        return model, opt_state, loss[None]
