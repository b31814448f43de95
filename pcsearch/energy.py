"""Energies of a predictive coding network, per example.

Hidden layers: 1/2 ||h_l - mu_l||^2 with mu_l = f(W h_{l-1} + b) (the paper's eq. 1; states
are post-activations, see ``pcsearch.models.mlp``). The top layer h_L is clamped to a
target (the label, a nudged label, or the data in generative mode) and its energy is a
loss on the prediction mu_L: squared error (PC-SE) or cross-entropy -y . log_softmax(mu_L)
(PC-CE).

What is clamped is data, not a code path: ``x`` is the bottom state h_0 when it is fixed
(the input of a discriminative network, a label in conditional generation) or None when
h_0 is free (the latent of a generative network; it is then the first of the states and
has its own energy, a Gaussian prior of precision ``bottom_precision``, 0 for none).
``top_free`` marks units of h_L that inference may move (associative memory recall):
those units of the target are replaced by the last state.
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


def split_states(
    x: jax.Array | None, states: Sequence[jax.Array], top_free: jax.Array | None
) -> tuple[jax.Array, list[jax.Array], jax.Array | None]:
    """The free ``states`` (in layer order) and the clamps as (h_0, hidden, free top)."""
    states = list(states)
    bottom = states.pop(0) if x is None else x
    top = states.pop() if top_free is not None else None
    return bottom, states, top


def top_value(target: jax.Array, top: jax.Array | None, top_free: jax.Array | None) -> jax.Array:
    """h_L: the target, with the free units (``top_free`` = 1) taken from the state."""
    if top_free is None or top is None:
        return target
    return jnp.where(top_free > 0, top, target)


def layer_energies(
    model: PCModel,
    x: jax.Array | None,
    states: Sequence[jax.Array],
    target: jax.Array,
    output_loss: OutputLoss,
    output_precision: float | jax.Array = 1.0,
    first_prediction: jax.Array | None = None,
    *,
    bottom_precision: float | jax.Array = 0.0,
    top_free: jax.Array | None = None,
) -> jax.Array:
    """Energy of each layer for one example: [depth] with h_0 clamped, [depth + 1] (the
    prior on h_0 first) with h_0 free.

    ``states`` are the free layers in order: h_0 if ``x`` is None, h_1..h_{L-1}, and h_L
    if ``top_free`` is given. ``first_prediction`` lets the caller compute mu_1 = W_0 x
    once per batch: with the input clamped it does not change during inference.
    """
    bottom, hidden, top = split_states(x, states, top_free)
    below = [bottom, *hidden]
    mus = [
        first_prediction if i == 0 and first_prediction is not None else model.predict(i, below)
        for i in range(model.depth)
    ]
    energies = [0.5 * jnp.sum((h - mu) ** 2) for h, mu in zip(hidden, mus[:-1], strict=True)]
    clamped_top = top_value(target.reshape(mus[-1].shape), top, top_free)
    energies.append(output_precision * output_loss(mus[-1], clamped_top))
    if x is None:
        energies.insert(0, bottom_precision * 0.5 * jnp.sum(bottom**2))
    return jnp.stack(energies)
