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

from pcsearch.catalogue import HYPERPARAMETERS

TRACED_NAMES: tuple[str, ...] = tuple(n for n, h in HYPERPARAMETERS.items() if h.traced)
"""From the catalogue, the one list of what is traced (workers batch trials by it too)."""


class TracedHyperparameters(eqx.Module):
    state_lr: jax.Array
    state_momentum: jax.Array
    weight_lr: jax.Array
    weight_decay: jax.Array
    weight_momentum: jax.Array
    beta: jax.Array
    beta_increment: jax.Array
    init_std: jax.Array
    h_var: jax.Array
    input_var: jax.Array

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TracedHyperparameters:
        """Missing names (e.g. beta for PC) become zeros: they are never read."""
        return cls(**{n: jnp.asarray(params.get(n, 0.0), jnp.float32) for n in TRACED_NAMES})

    @classmethod
    def stack(cls, params: Sequence[Mapping[str, Any]]) -> TracedHyperparameters:
        """K trials' values along a leading axis, for batched training."""
        members = [cls.from_params(p) for p in params]
        return jax.tree.map(lambda *xs: jnp.stack(xs), *members)


_FIELDS = tuple(TracedHyperparameters.__dataclass_fields__)
if set(_FIELDS) != set(TRACED_NAMES):
    raise ImportError(
        f"TracedHyperparameters has fields {sorted(_FIELDS)} but the catalogue traces "
        f"{sorted(TRACED_NAMES)}: add or remove fields so that they agree"
    )
