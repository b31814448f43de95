"""Langevin noise replayed from given draws, for both sides of the MCPC equivalence test.

The fixture writer (pcx's environment) puts it where the code's ``optax.add_noise`` stands,
and the test (pcsearch's) where ``add_gaussian_noise`` stands, so that both networks take
the very same noisy steps. Imports JAX and Optax only, which both environments have.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax


def replayed_noise(std: float | jax.Array, noise: Sequence) -> optax.GradientTransformation:
    """Update t adds ``std * noise[i][t]`` to the i-th leaf of the gradients (the free
    states bottom to top); ``noise`` holds one [T, batch, *state] array of N(0, 1) draws
    per leaf, in place of a PRNG's."""
    noise = [jnp.asarray(n) for n in noise]

    def init(params):
        del params
        return jnp.zeros((), jnp.int32)

    def update(updates, count, params=None):
        del params
        leaves, treedef = jax.tree.flatten(updates)
        shapes = [tuple(g.shape) for g in leaves]
        if shapes != [tuple(n.shape[1:]) for n in noise]:
            raise ValueError(f"free states {shapes} vs noise {[n.shape for n in noise]}")
        noisy = [g + std * n[count] for g, n in zip(leaves, noise, strict=True)]
        return treedef.unflatten(noisy), count + 1

    return optax.GradientTransformation(init, update)
