"""Langevin dynamics for the states as an Optax transformation (MCPC, the paper's eqs. 4-6).

Gaussian noise is added to the state gradient before momentum SGD, so each step is

    v <- m v + (grad F + xi),   xi ~ N(0, 2 sigma^2 (1 - m) / gamma)
    h <- h - gamma v

With m = 0 that is eq. 4, dh = -gamma grad F + sqrt(2 gamma) N with N ~ N(0, sigma^2); with
m > 0 it is the heavy-ball form of eqs. 5-6, whose noise must shrink with (1 - m) to keep
the same temperature. Either way the states sample exp(-F / sigma^2) for small gamma.
The noise variance 2 sigma^2 (1 - m) / gamma is what the paper's code adds to gradients
(its ``sgdld``, e.g. examples/mcpc.py in liukidar/pcx); sigma^2 is ``h_var``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class NoiseState(NamedTuple):
    key: jax.Array
    """Split at every step: each update draws fresh noise."""


def add_gaussian_noise(variance: jax.Array | float, key: jax.Array) -> optax.GradientTransformation:
    """Add N(0, ``variance``) to every leaf of the updates; the state carries the PRNG key."""

    def init(params: optax.Params) -> NoiseState:
        del params
        return NoiseState(key)

    def update(updates, state: NoiseState, params=None):
        del params
        leaves, treedef = jax.tree.flatten(updates)
        next_key, *keys = jax.random.split(state.key, len(leaves) + 1)
        std = jnp.sqrt(variance)
        noisy = [
            g + std * jax.random.normal(k, g.shape, g.dtype)
            for g, k in zip(leaves, keys, strict=True)
        ]
        return treedef.unflatten(noisy), NoiseState(next_key)

    return optax.GradientTransformation(init, update)


def langevin_variance(
    state_lr: jax.Array | float, momentum: jax.Array | float, h_var: jax.Array | float
) -> jax.Array:
    """Variance of the noise added to the gradient: 2 h_var (1 - m) / gamma (0 when gamma is
    0, where no step is taken)."""
    state_lr = jnp.asarray(state_lr, jnp.float32)
    safe_lr = jnp.where(state_lr > 0, state_lr, 1.0)
    return jnp.where(state_lr > 0, 2.0 * h_var * (1.0 - momentum) / safe_lr, 0.0)


def langevin(
    state_lr: jax.Array | float,
    momentum: jax.Array | float,
    h_var: jax.Array | float,
    key: jax.Array,
) -> optax.GradientTransformation:
    """Noisy momentum SGD on the states: Langevin dynamics at temperature ``h_var``."""
    return optax.chain(
        add_gaussian_noise(langevin_variance(state_lr, momentum, h_var), key),
        optax.sgd(state_lr, momentum=momentum),
    )
