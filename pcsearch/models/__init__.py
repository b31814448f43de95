"""Models: Equinox modules with a per-example ``__call__``."""

from typing import Any

import jax

from pcsearch.models.activations import ACTIVATIONS, activation
from pcsearch.models.mlp import MLP


def build_mlp(params: dict[str, Any], input_dim: int, output_dim: int, key: jax.Array) -> MLP:
    sizes = [input_dim] + [params["hidden_width"]] * params["hidden_layers"] + [output_dim]
    return MLP(sizes, activation(params["activation"]), key=key)


__all__ = ["ACTIVATIONS", "MLP", "activation", "build_mlp"]
