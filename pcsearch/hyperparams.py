"""Trial-varying hyperparameters as traced arrays.

Everything in :class:`TracedHyperparameters` enters the compiled training program as
data, so runs that differ only in these values share one compiled program, and K trials
can be stacked along a leading axis and trained together under ``vmap``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

TRACED_NAMES = (
    "state_lr",
    "state_momentum",
    "weight_lr",
    "weight_decay",
    "weight_momentum",
    "beta",
    "beta_increment",
    "init_std",
)


class TracedHyperparameters(eqx.Module):
    state_lr: jax.Array
    state_momentum: jax.Array
    weight_lr: jax.Array
    weight_decay: jax.Array
    weight_momentum: jax.Array
    beta: jax.Array
    beta_increment: jax.Array
    init_std: jax.Array

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TracedHyperparameters:
        """Missing names (e.g. beta for PC) become zeros: they are never read."""
        return cls(**{n: jnp.asarray(params.get(n, 0.0), jnp.float32) for n in TRACED_NAMES})

    @classmethod
    def stack(cls, params: Sequence[Mapping[str, Any]]) -> TracedHyperparameters:
        """K trials' values along a leading axis, for batched training."""
        members = [cls.from_params(p) for p in params]
        return jax.tree.map(lambda *xs: jnp.stack(xs), *members)
