"""Energies of a predictive coding network, per example.

Hidden layers: 1/2 ||h_l - mu_l||^2 with mu_l = f(W h_{l-1} + b) (the paper's eq. 1; states
are post-activations, see ``pcsearch.models.mlp``). The output layer is clamped to a
target (the label, or a nudged label) and its energy is a loss on the prediction mu_L:
squared error (PC-SE) or cross-entropy -y . log_softmax(mu_L) (PC-CE).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from pcsearch.models.base import PCModel

OutputLoss = Callable[[jax.Array, jax.Array], jax.Array]


def squared_error(prediction: jax.Array, target: jax.Array) -> jax.Array:
    return 0.5 * jnp.sum((target - prediction) ** 2)


def cross_entropy(prediction: jax.Array, target: jax.Array) -> jax.Array:
    return -jnp.sum(target * jax.nn.log_softmax(prediction))


OUTPUT_LOSSES: dict[str, OutputLoss] = {"se": squared_error, "ce": cross_entropy}


def layer_energies(
    model: PCModel,
    x: jax.Array,
    states: Sequence[jax.Array],
    target: jax.Array,
    output_loss: OutputLoss,
    output_precision: float | jax.Array = 1.0,
    first_prediction: jax.Array | None = None,
) -> jax.Array:
    """Energy of each layer, shape [depth], for one example.

    ``states`` are the hidden states h_1..h_{L-1}. ``first_prediction`` lets the caller
    compute mu_1 = W_0 x once per batch: with the input clamped it does not change
    during inference.
    """
    below = [x, *states]
    mus = [
        first_prediction if i == 0 and first_prediction is not None else model.predict(i, below)
        for i in range(model.depth)
    ]
    hidden = [0.5 * jnp.sum((h - mu) ** 2) for h, mu in zip(states, mus[:-1], strict=True)]
    output = output_precision * output_loss(mus[-1], target)
    return jnp.stack([*hidden, output])
