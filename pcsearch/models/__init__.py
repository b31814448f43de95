"""Models: Equinox modules with a per-example ``__call__``, built by a task's model name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jax

if TYPE_CHECKING:
    from pcsearch.algorithms.clamping import Clamping

from pcsearch.models.activations import ACTIVATIONS, activation
from pcsearch.models.alexnet import alexnet
from pcsearch.models.autoencoders import AUTOENCODER_MODELS, build_autoencoder
from pcsearch.models.base import PCModel
from pcsearch.models.convnet import ConvNet
from pcsearch.models.generator import build_generator
from pcsearch.models.mlp import MLP
from pcsearch.models.resnet import RESNET18, ResNet
from pcsearch.models.vgg import VGG, VGG5, VGG7, VGG9
from pcsearch.models.vgg19 import vgg19


def build_mlp(params: dict[str, Any], input_dim: int, output_dim: int, key: jax.Array) -> MLP:
    sizes = [input_dim] + [params["hidden_width"]] * params["hidden_layers"] + [output_dim]
    return MLP(sizes, activation(params["activation"]), key=key)


VGGS = {"vgg5": VGG5, "vgg7": VGG7, "vgg9": VGG9}


def build_model(
    name: str,
    params: dict[str, Any],
    input_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
    clamping: Clamping | None = None,
) -> PCModel:
    """The model a task names (``TaskInfo.model``), for data of ``input_shape``.

    Generative models read ``clamping``: a decoder for PC (data at the top), an
    encoder-decoder for the BP autoencoder (data at both ends).
    """
    if name == "mlp":
        width = 1
        for n in input_shape:
            width *= int(n)
        return build_mlp(params, width, num_classes, key)
    act = activation(params["activation"])
    if name in VGGS:
        return VGG(input_shape, num_classes, **VGGS[name], activation=act, key=key)
    if name in ("vgg19", "vgg19skip"):
        return vgg19(input_shape, num_classes, act, skip=name == "vgg19skip", key=key)
    if name == "resnet18":
        return ResNet(input_shape, num_classes, act, **RESNET18, key=key)
    if name == "alexnet":
        return alexnet(input_shape, num_classes, act, key=key)
    if name == "mlp-generator":
        return build_generator(params, input_shape, num_classes, key, clamping)
    if name in AUTOENCODER_MODELS:
        return build_autoencoder(name, params, input_shape, key, clamping)
    raise ValueError(f"no builder for model {name!r}")


__all__ = [
    "ACTIVATIONS", "MLP", "VGG", "ConvNet", "PCModel", "ResNet", "activation", "build_mlp",
    "build_model",
]  # fmt: skip
