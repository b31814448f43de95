"""Put externally drawn weights into pcsearch's models, in the order of the pcx fixtures.

The order is the one ``benchmarks/pcx_equivalence.py`` documents: the weight layers bottom
to top (a ConvNet's skip layer last), each as weight then bias, in Equinox's layout.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from pcsearch.models import MLP, VGG, ConvNet
from pcsearch.models.deconv import ConvStack


def weight_layers(model: eqx.Module) -> list[eqx.Module]:
    """The model's weight layers in the fixtures' order; also works on a gradient PyTree of
    the same structure."""
    if isinstance(model, MLP | ConvStack):
        return list(model.layers)
    if isinstance(model, VGG):
        return [*model.convs, model.head]
    if isinstance(model, ConvNet):
        skip = [] if model.skip is None else [model.skip]
        return [*model.convs, *model.hidden, model.head, *skip]
    raise TypeError(f"no fixture weight order for {type(model).__name__}")


def weight_arrays(model: eqx.Module) -> list:
    """Weight then bias of every layer, in order."""
    return [a for layer in weight_layers(model) for a in (layer.weight, layer.bias)]


def load_weights(model: eqx.Module, arrays: Sequence[np.ndarray]) -> eqx.Module:
    """``model`` with its weights replaced by ``arrays``; fails loudly on any disagreement
    in count or shape."""
    current = weight_arrays(model)
    if len(current) != len(arrays):
        raise ValueError(
            f"{type(model).__name__} has {len(current)} weight arrays, the fixture {len(arrays)}"
        )
    for index, (have, new) in enumerate(zip(current, arrays, strict=True)):
        if tuple(have.shape) != tuple(new.shape):
            raise ValueError(
                f"weight array {index} of {type(model).__name__}: pcsearch's shape "
                f"{tuple(have.shape)}, the fixture's {tuple(new.shape)}"
            )
    return eqx.tree_at(weight_arrays, model, [jnp.asarray(a) for a in arrays])
