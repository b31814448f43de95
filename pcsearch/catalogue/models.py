"""The models of the vocabulary: what a task's ``model`` may name.

The builders are ``pcsearch.models.BUILDERS``, checked against this list when that
package is imported. ``hyperparameters`` lists the model-specific hyperparameters a
model's builder reads (every builder reads ``activation``); ``HyperparameterInfo.models``
is derived from it, so a width never reaches a VGG.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcsearch.catalogue.registry import by_name


@dataclass(frozen=True)
class ModelInfo:
    name: str
    title: str
    hyperparameters: tuple[str, ...] = ()
    """The model-specific hyperparameters its builder reads, besides ``activation``."""


_MLP_SHAPE = ("hidden_width", "hidden_layers")

MODELS: dict[str, ModelInfo] = by_name(
    [
        ModelInfo("mlp", "MLP of the paper's discriminative tasks", _MLP_SHAPE),
        ModelInfo("vgg5", "VGG-5 of Table 5, its fourth conv padded by 1 as in the paper's code"),
        ModelInfo("vgg7", "VGG-7 of Table 5"),
        ModelInfo("vgg9", "VGG-9 of Table 1 (VGG-7 grown to 8 convs)"),
        ModelInfo("vgg19", "VGG-19 of Appendix E, without skip connection"),
        ModelInfo("vgg19skip", "VGG-19 of Appendix E, with its skip into the output"),
        ModelInfo("resnet18", "ResNet-18 of Table 1 (CIFAR-style, no batch norm)"),
        ModelInfo("alexnet", "AlexNet of Table 4's timings"),
        ModelInfo(
            "ae-linear",
            "MLP decoder of Table 9; BP: a mirrored encoder in front, all linear (the code's)",
            (*_MLP_SHAPE, "latent_dim"),
        ),
        ModelInfo(
            "ae-deconv", "deconv decoder of Table 8; BP: a conv encoder in front", ("kernel_size",)
        ),
        ModelInfo(
            "mlp-generator",
            "MLP generator: h_0 (a latent, the label, or none), hidden layers, data layer; "
            "MCPC in the code's layout or the text's (pcsearch.models.generator)",
            (*_MLP_SHAPE, "latent_dim", "layout", "data_activation"),
        ),
    ],
    "model",
)


def models_reading(hyperparameter: str) -> tuple[str, ...] | None:
    """The models whose builders read ``hyperparameter``; None: it is not model-specific."""
    return tuple(n for n, m in MODELS.items() if hyperparameter in m.hyperparameters) or None
