"""Models: Equinox modules with a per-example ``__call__``, built by a task's model name.

``BUILDERS`` holds one builder per model of ``pcsearch.catalogue.MODELS`` (checked when this
package is imported); ``build_model`` looks the name up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax

if TYPE_CHECKING:
    from pcsearch.algorithms.clamping import Clamping

from pcsearch.catalogue import MODELS
from pcsearch.catalogue.registry import check_registry
from pcsearch.models.activations import ACTIVATIONS, activation
from pcsearch.models.alexnet import alexnet
from pcsearch.models.autoencoders import build_deconv_autoencoder, build_linear_autoencoder
from pcsearch.models.base import PCModel
from pcsearch.models.convnet import ConvNet
from pcsearch.models.generator import build_generator
from pcsearch.models.mlp import MLP
from pcsearch.models.resnet import RESNET18, ResNet
from pcsearch.models.vgg import VGG, VGG5, VGG7, VGG9
from pcsearch.models.vgg19 import vgg19

ModelBuilder = Callable[
    [Mapping[str, Any], Sequence[int], int, jax.Array, "Clamping | None"], PCModel
]
"""(resolved hyperparameters, input shape, number of classes, key, the task's clamping) ->
model. Generative models read the clamping: a decoder for PC (data at the top), an
encoder-decoder for the BP autoencoder (data at both ends)."""


def build_mlp(params: dict[str, Any], input_dim: int, output_dim: int, key: jax.Array) -> MLP:
    sizes = [input_dim] + [params["hidden_width"]] * params["hidden_layers"] + [output_dim]
    return MLP(sizes, activation(params["activation"]), key=key)


def _mlp(params, input_shape, num_classes, key, clamping) -> MLP:
    width = 1
    for n in input_shape:
        width *= int(n)
    return build_mlp(params, width, num_classes, key)


def _vgg(layers: dict[str, Any]) -> ModelBuilder:
    """A VGG of ``layers`` (Table 5's channels, paddings and pools)."""

    def build(params, input_shape, num_classes, key, clamping) -> VGG:
        act = activation(params["activation"])
        return VGG(input_shape, num_classes, **layers, activation=act, key=key)

    return build


def _vgg19(skip: bool) -> ModelBuilder:
    def build(params, input_shape, num_classes, key, clamping) -> ConvNet:
        return vgg19(input_shape, num_classes, activation(params["activation"]), skip=skip, key=key)

    return build


def _resnet18(params, input_shape, num_classes, key, clamping) -> ResNet:
    return ResNet(input_shape, num_classes, activation(params["activation"]), **RESNET18, key=key)


def _alexnet(params, input_shape, num_classes, key, clamping) -> ConvNet:
    return alexnet(input_shape, num_classes, activation(params["activation"]), key=key)


BUILDERS: dict[str, ModelBuilder] = {
    "mlp": _mlp,
    "vgg5": _vgg(VGG5),
    "vgg7": _vgg(VGG7),
    "vgg9": _vgg(VGG9),
    "vgg19": _vgg19(skip=False),
    "vgg19skip": _vgg19(skip=True),
    "resnet18": _resnet18,
    "alexnet": _alexnet,
    "ae-linear": build_linear_autoencoder,
    "ae-deconv": build_deconv_autoencoder,
    "mlp-generator": build_generator,
}
"""One builder per model of ``pcsearch.catalogue.MODELS``; the hyperparameters each reads
besides ``activation`` are listed there (``ModelInfo.hyperparameters``)."""

check_registry(
    "model",
    BUILDERS,
    MODELS,
    registry_at="pcsearch.models.BUILDERS",
    catalogue_at="pcsearch/catalogue/models.py",
)


def build_model(
    name: str,
    params: dict[str, Any],
    input_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
    clamping: Clamping | None = None,
) -> PCModel:
    """The model a task names (``TaskInfo.model``), for data of ``input_shape``."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(
            f"no builder for model {name!r}; choose one of: {', '.join(BUILDERS)}"
        ) from None
    return builder(params, input_shape, num_classes, key, clamping)


__all__ = [
    "ACTIVATIONS", "BUILDERS", "MLP", "VGG", "ConvNet", "PCModel", "ResNet", "activation",
    "build_mlp", "build_model",
]  # fmt: skip
