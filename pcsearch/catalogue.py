"""What exists: tasks, algorithms and hyperparameters, as plain data.

This module never imports JAX, so the API image and the search spaces can use it
without an accelerator stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pcsearch.errors import UnknownNameError

Family = Literal["pc", "ipc", "nudging", "bp", "mcpc"]


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    family: Family
    summary: str
    output_loss: Literal["se", "ce"]
    implemented: bool = True


ALGORITHMS: dict[str, AlgorithmInfo] = {
    a.name: a
    for a in [
        AlgorithmInfo("pc-se", "pc", "predictive coding, squared-error output energy", "se"),
        AlgorithmInfo("pc-ce", "pc", "predictive coding, cross-entropy output energy", "ce"),
        AlgorithmInfo("ipc", "ipc", "incremental PC: weights move at every inference step", "se"),
        AlgorithmInfo("pn", "nudging", "positive nudging of the output towards the label", "se"),
        AlgorithmInfo("nn", "nudging", "negative nudging (beta < 0)", "se"),
        AlgorithmInfo("cn", "nudging", "centered nudging: a random sign per epoch", "se"),
        AlgorithmInfo(
            "mcpc", "mcpc", "Monte Carlo PC (Langevin state dynamics)", "se", implemented=False
        ),
        AlgorithmInfo("bp-se", "bp", "backprop baseline, squared-error loss", "se"),
        AlgorithmInfo("bp-ce", "bp", "backprop baseline, cross-entropy loss", "ce"),
    ]
}


@dataclass(frozen=True)
class HyperparameterInfo:
    name: str
    kind: Literal["int", "float", "choice"]
    summary: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    families: tuple[Family, ...] = ("pc", "ipc", "nudging", "bp", "mcpc")
    traced: bool = False
    """Traced values vary between trials without recompiling the training program."""
    models: tuple[str, ...] | None = None
    """The models (``TaskInfo.model``) it applies to; None: every model."""


ACTIVATIONS = ("relu", "leaky_relu", "gelu", "tanh", "hard_tanh", "silu")
PC_FAMILIES: tuple[Family, ...] = ("pc", "ipc", "nudging", "mcpc")

HYPERPARAMETERS: dict[str, HyperparameterInfo] = {
    h.name: h
    for h in [
        HyperparameterInfo(
            "T", "int", "inference steps per batch", low=1, high=10_000, families=PC_FAMILIES
        ),
        HyperparameterInfo(
            "state_lr",
            "float",
            "state learning rate (per-sample gradient)",
            low=0.0,
            high=100.0,
            families=PC_FAMILIES,
            traced=True,
        ),
        HyperparameterInfo(
            "state_momentum",
            "float",
            "momentum of the state optimiser",
            low=0.0,
            high=1.0,
            families=PC_FAMILIES,
            traced=True,
        ),
        HyperparameterInfo(
            "state_optimizer",
            "choice",
            "optimiser for the states",
            choices=("sgd", "adam"),
            families=PC_FAMILIES,
        ),
        HyperparameterInfo(
            "weight_lr",
            "float",
            "peak-schedule base learning rate of weights",
            low=0.0,
            high=10.0,
            traced=True,
        ),
        HyperparameterInfo(
            "weight_decay", "float", "decoupled weight decay", low=0.0, high=10.0, traced=True
        ),
        HyperparameterInfo(
            "weight_optimizer", "choice", "optimiser for the weights", choices=("adamw", "sgd")
        ),
        HyperparameterInfo(
            "weight_momentum",
            "float",
            "momentum of the weights' SGD (the paper's stability study); AdamW ignores it",
            low=0.0,
            high=0.999,
            traced=True,
        ),
        HyperparameterInfo(
            "weight_schedule",
            "choice",
            "weight learning-rate schedule: the paper's warmup-cosine, or constant (Section 5)",
            choices=("warmup-cosine", "constant"),
        ),
        HyperparameterInfo("activation", "choice", "hidden activation", choices=ACTIVATIONS),
        HyperparameterInfo(
            "init",
            "choice",
            "state initialisation",
            choices=("forward", "zeros", "normal"),
            families=PC_FAMILIES,
        ),
        HyperparameterInfo(
            "init_std",
            "float",
            "std of the states' normal initialisation (init=normal)",
            low=0.0,
            high=100.0,
            families=PC_FAMILIES,
            traced=True,
        ),
        HyperparameterInfo(
            "beta",
            "float",
            "nudging strength (its sign is the algorithm's); > 0: gradients are scaled by 1/beta",
            low=0.0,
            high=1.0,
            families=("nudging",),
            traced=True,
        ),
        HyperparameterInfo(
            "beta_increment",
            "float",
            "added to beta after every epoch",
            low=0.0,
            high=1.0,
            families=("nudging",),
            traced=True,
        ),
        HyperparameterInfo("batch_size", "int", "examples per batch", low=1, high=100_000),
        HyperparameterInfo("epochs", "int", "passes over the training set", low=1, high=10_000),
        HyperparameterInfo(
            "hidden_width", "int", "units per hidden layer", low=1, high=65_536, models=("mlp",)
        ),
        HyperparameterInfo(
            "hidden_layers", "int", "number of hidden layers", low=0, high=64, models=("mlp",)
        ),
        # Task-specific: autoencoders, MCPC and associative memory (spaces only, for now).
        HyperparameterInfo("kernel_size", "int", "deconvolution kernel size", low=1, high=15),
        HyperparameterInfo("latent_dim", "int", "bottleneck width", low=1, high=65_536),
        HyperparameterInfo(
            "h_var",
            "float",
            "MCPC Langevin noise variance",
            low=0.0,
            high=100.0,
            families=("mcpc",),
            traced=True,
        ),
        HyperparameterInfo(
            "input_var",
            "float",
            "MCPC data-layer variance",
            low=1e-6,
            high=100.0,
            families=("mcpc",),
            traced=True,
        ),
        HyperparameterInfo(
            "T_recall",
            "int",
            "inference steps at recall (associative memory)",
            low=1,
            high=1_000_000,
            families=PC_FAMILIES,
        ),
    ]
}


@dataclass(frozen=True)
class TaskInfo:
    name: str
    dataset: str
    model: Literal["mlp", "vgg5", "vgg7"]
    summary: str
    metric: Literal["accuracy", "mse"] = "accuracy"
    direction: Literal["maximize", "minimize"] = "maximize"
    defaults: dict[str, Any] = field(default_factory=dict)
    augment_padding: int = 0
    """> 0: random crops with this padding and horizontal flips of training images, as
    the paper augments CIFAR (4)."""


_PAPER_MLP = {"hidden_width": 128, "hidden_layers": 3, "batch_size": 128, "epochs": 25}
_SMALL_MLP = {
    "hidden_width": 64,
    "hidden_layers": 2,
    "batch_size": 32,
    "epochs": 20,
    "activation": "gelu",
}

_PAPER_VGG = {"batch_size": 128, "epochs": 50, "activation": "gelu"}

DATASET_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "mnist": ((784,), 10),
    "fashionmnist": ((784,), 10),
    "digits": ((64,), 10),
    "two-moons": ((2,), 2),
    "two-circles": ((2,), 2),
    "cifar10": ((3, 32, 32), 10),
    "cifar100": ((3, 32, 32), 100),
}
"""Each dataset's input shape (one example) and number of classes: what synthetic data
for timing and smoke runs is made of, without reading any file."""

TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in [
        TaskInfo(
            "mlp-mnist",
            "mnist",
            "mlp",
            "MNIST digits, 784-128-128-128-10 (paper)",
            defaults=dict(_PAPER_MLP),
        ),
        TaskInfo(
            "mlp-fashionmnist",
            "fashionmnist",
            "mlp",
            "Fashion-MNIST, 784-128-128-128-10 (paper)",
            defaults=dict(_PAPER_MLP),
        ),
        TaskInfo(
            "mlp-digits",
            "digits",
            "mlp",
            "scikit-learn 8x8 digits, 64-64-64-10 (bundled)",
            defaults=dict(_SMALL_MLP),
        ),
        TaskInfo(
            "mlp-two-moons",
            "two-moons",
            "mlp",
            "two moons, noise 0.1 (bundled)",
            defaults=dict(_SMALL_MLP),
        ),
        TaskInfo(
            "mlp-two-circles",
            "two-circles",
            "mlp",
            "two circles, noise 0.1, factor 0.5 (bundled)",
            defaults=dict(_SMALL_MLP),
        ),
        TaskInfo(
            "vgg5-cifar10",
            "cifar10",
            "vgg5",
            "CIFAR-10, VGG-5 of Table 5 (128-256-512-512 channels)",
            defaults=dict(_PAPER_VGG),
            augment_padding=4,
        ),
        TaskInfo(
            "vgg5-cifar100",
            "cifar100",
            "vgg5",
            "CIFAR-100, VGG-5 of Table 5; top-1 and top-5 accuracy",
            defaults=dict(_PAPER_VGG),
            augment_padding=4,
        ),
        TaskInfo(
            "vgg7-cifar10",
            "cifar10",
            "vgg7",
            "CIFAR-10, VGG-7 of Table 5 (128-128-256-256-512-512 channels)",
            defaults=dict(_PAPER_VGG),
            augment_padding=4,
        ),
        TaskInfo(
            "vgg7-cifar100",
            "cifar100",
            "vgg7",
            "CIFAR-100, VGG-7 of Table 5; top-1 and top-5 accuracy",
            defaults=dict(_PAPER_VGG),
            augment_padding=4,
        ),
    ]
}


def _lookup(table: dict[str, Any], kind: str, name: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(table))}"
        ) from None


def task_info(name: str) -> TaskInfo:
    return _lookup(TASKS, "task", name)


def algorithm_info(name: str) -> AlgorithmInfo:
    """An implemented algorithm; the error lists only those that can run."""
    available = {n: a for n, a in ALGORITHMS.items() if a.implemented}
    if name in ALGORITHMS and name not in available:
        raise UnknownNameError(
            f"algorithm {name!r} is part of the vocabulary but not implemented yet; "
            f"choose one of: {', '.join(available)}"
        )
    return _lookup(available, "algorithm", name)


def hyperparameter_info(name: str) -> HyperparameterInfo:
    return _lookup(HYPERPARAMETERS, "hyperparameter", name)
