"""Models: Equinox modules with a per-example ``__call__``, built by a task's model name."""

from collections.abc import Sequence
from typing import Any

import jax

from pcsearch.models.activations import ACTIVATIONS, activation
from pcsearch.models.base import PCModel
from pcsearch.models.mlp import MLP
from pcsearch.models.vgg import VGG, VGG5, VGG7


def build_mlp(params: dict[str, Any], input_dim: int, output_dim: int, key: jax.Array) -> MLP:
    sizes = [input_dim] + [params["hidden_width"]] * params["hidden_layers"] + [output_dim]
    return MLP(sizes, activation(params["activation"]), key=key)


VGGS = {"vgg5": VGG5, "vgg7": VGG7}


def build_model(
    name: str,
    params: dict[str, Any],
    input_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
) -> PCModel:
    """The model a task names (``TaskInfo.model``), for inputs of ``input_shape``."""
    if name == "mlp":
        width = 1
        for n in input_shape:
            width *= int(n)
        return build_mlp(params, width, num_classes, key)
    if name in VGGS:
        act = activation(params["activation"])
        return VGG(input_shape, num_classes, **VGGS[name], activation=act, key=key)
    raise ValueError(f"no builder for model {name!r}")


__all__ = [
    "ACTIVATIONS", "MLP", "VGG", "PCModel", "activation", "build_mlp", "build_model",
]  # fmt: skip
