"""Backprop baselines (BP-SE, BP-CE) on the same models and data pipeline as PC.

In generative tasks the baseline is an autoencoder (``AUTOENCODER`` clamping: the data is
both the input and the target of an encoder-decoder model).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms.base import Algorithm, StepInput, apply_weight_gradient
from pcsearch.algorithms.clamping import DISCRIMINATIVE, Clamping
from pcsearch.energy import OutputLoss
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel


class Backprop(Algorithm):
    output_loss: OutputLoss = eqx.field(static=True)
    clamping: Clamping = eqx.field(static=True, default=DISCRIMINATIVE)

    def loss(self, model: PCModel, x: jax.Array, y: jax.Array) -> jax.Array:
        """Mean over the batch of the per-example loss of the output against the target."""

        def per_example(xi: jax.Array, yi: jax.Array) -> jax.Array:
            out = model(xi)
            return self.output_loss(out, yi.reshape(out.shape))

        return jnp.mean(jax.vmap(per_example)(x, y))

    def train_step(
        self,
        model: PCModel,
        opt_state: optax.OptState,
        weight_optimizer: optax.GradientTransformation,
        hp: TracedHyperparameters,
        batch: StepInput,
    ) -> tuple[PCModel, optax.OptState, jax.Array]:
        x, target = self.clamping.clamps(batch.x, batch.y)
        loss, grads = eqx.filter_value_and_grad(self.loss)(model, x, target)
        model, opt_state = apply_weight_gradient(model, grads, opt_state, weight_optimizer)
        return model, opt_state, loss[None]
