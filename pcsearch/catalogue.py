"""What exists: tasks, algorithms and hyperparameters, as plain data.

This module never imports JAX, so the API image and the search spaces can use it
without an accelerator stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pcsearch.errors import UnknownNameError, UnsupportedError

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
        AlgorithmInfo("mcpc", "mcpc", "Monte Carlo PC (Langevin state dynamics)", "se"),
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
    modes: tuple[str, ...] | None = None
    """The modes (``TaskInfo.mode``) it applies to; None: every mode."""


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
            "optimiser for the states (MCPC's is always Langevin: noisy momentum SGD)",
            choices=("sgd", "adam"),
            families=("pc", "ipc", "nudging"),
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
            "hidden_width",
            "int",
            "units per hidden layer",
            low=1,
            high=65_536,
            models=("mlp", "ae-linear", "mlp-generator"),
        ),
        HyperparameterInfo(
            "hidden_layers",
            "int",
            "number of hidden layers",
            low=0,
            high=64,
            models=("mlp", "ae-linear", "mlp-generator"),
        ),
        # Task-specific: autoencoders, MCPC and associative memory (spaces only, for now).
        HyperparameterInfo(
            "kernel_size", "int", "deconvolution kernel size", low=1, high=15, models=("ae-deconv",)
        ),
        HyperparameterInfo(
            "latent_dim",
            "int",
            "bottleneck width (a free h_0)",
            low=1,
            high=65_536,
            models=("ae-linear", "mlp-generator"),
        ),
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
            "T_sample",
            "int",
            "MCPC Langevin steps with every state free when generating samples",
            low=1,
            high=1_000_000,
            families=("mcpc",),
        ),
        HyperparameterInfo(
            "T_recall",
            "int",
            "inference steps at recall (associative memory)",
            low=1,
            high=1_000_000,
            families=PC_FAMILIES,
            modes=("memory",),
        ),
        HyperparameterInfo(
            "memory_size",
            "int",
            "training images memorised, and recalled (associative memory; the paper: 50-250)",
            low=1,
            high=1_000_000,
            families=PC_FAMILIES,
            modes=("memory",),
        ),
        HyperparameterInfo(
            "corruption",
            "choice",
            "recall cue: Gaussian noise (std 0.2) or the bottom half masked (associative memory)",
            choices=("mask", "noise"),
            families=PC_FAMILIES,
            modes=("memory",),
        ),
    ]
}


@dataclass(frozen=True)
class Augmentation:
    """How training images are augmented on the device (the paper's Appendix B).

    Frozen and hashable: the training program takes it as a static argument, so each
    distinct augmentation compiles once. ``padding`` > 0: zero-pad, then crop back to the
    image size at a random offset (CIFAR: 4). ``crop``: a random ``crop`` x ``crop`` window
    without padding (Tiny ImageNet: 56 of 64); the model then sees ``crop``-sized inputs and
    the test set is centre-cropped to the same size once. ``flip``: mirror left-right with
    probability 1/2.
    """

    padding: int = 0
    crop: int | None = None
    flip: bool = False

    def __post_init__(self) -> None:
        if self.padding < 0 or (self.crop is not None and self.crop < 1):
            raise ValueError(f"bad augmentation {self!r}: padding >= 0 and crop >= 1")
        if self.padding and self.crop is not None:
            raise ValueError(f"bad augmentation {self!r}: pad-and-crop or crop, not both")

    @property
    def active(self) -> bool:
        return bool(self.padding or self.crop is not None or self.flip)

    def input_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape a model sees for images of ``shape`` ([C, H, W]): cropped or not."""
        if self.crop is None:
            return tuple(shape)
        return (*shape[:-2], self.crop, self.crop)


NO_AUGMENTATION = Augmentation()
CIFAR_AUGMENTATION = Augmentation(padding=4, flip=True)
"""Appendix B: random 32x32 crops of the image padded by 4, horizontal flips."""
TINYIMAGENET_AUGMENTATION = Augmentation(crop=56, flip=True)
"""Appendix B: random 56x56 crops (no padding) and flips; the test set centre-cropped."""


Mode = Literal["discriminative", "autoencoder", "sampling", "conditional-sampling", "memory"]

MODE_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "discriminative": ("pc-se", "pc-ce", "ipc", "pn", "nn", "cn", "bp-se", "bp-ce"),
    "autoencoder": ("pc-se", "ipc", "bp-se"),
    "sampling": ("mcpc",),
    "conditional-sampling": ("mcpc",),
    "memory": ("pc-se",),
}
"""Which algorithms each mode trains with (the paper's Sections 4.1-4.2): labels at the top
and nudging for discriminative networks; a decoder with the data at the top (and a BP
autoencoder) for reconstruction; MCPC for sampling, unconditional (h_0 free) or conditional
(h_0 clamped to the label); PC for associative memory."""


@dataclass(frozen=True)
class TaskInfo:
    name: str
    dataset: str
    model: Literal[
        "mlp", "vgg5", "vgg7", "vgg9", "vgg19", "vgg19skip", "resnet18", "alexnet", "ae-linear",
        "ae-deconv", "mlp-generator",
    ]  # fmt: skip
    summary: str
    metric: Literal["accuracy", "mse", "mmd"] = "accuracy"
    direction: Literal["maximize", "minimize"] = "maximize"
    defaults: dict[str, Any] = field(default_factory=dict)
    augmentation: Augmentation = NO_AUGMENTATION
    """What happens to training images on the device (and the test set's crop, if any)."""
    mode: Mode = "discriminative"
    """What the network learns and what is clamped: see ``MODE_ALGORITHMS``."""

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms this task can train with."""
        return MODE_ALGORITHMS[self.mode]


_PAPER_MLP = {"hidden_width": 128, "hidden_layers": 3, "batch_size": 128, "epochs": 25}
_SMALL_MLP = {
    "hidden_width": 64,
    "hidden_layers": 2,
    "batch_size": 32,
    "epochs": 20,
    "activation": "gelu",
}

_PAPER_VGG = {"batch_size": 128, "epochs": 50, "activation": "gelu"}

_TABLE11 = {"epochs": 30, "batch_size": 128, "weight_lr": 1e-4, "T": 24}
"""Table 11 (VGG-19 on CIFAR-10), shared by both variants; the best values differ below."""
_VGG19_PLAIN = _TABLE11 | {
    "activation": "gelu", "state_lr": 0.1, "state_momentum": 0.99, "weight_decay": 1e-4,
}  # fmt: skip
_VGG19_SKIP = _TABLE11 | {
    "activation": "leaky_relu", "state_lr": 0.5, "state_momentum": 0.5, "weight_decay": 5e-4,
}  # fmt: skip
_ALEXNET_TIMING = {
    "batch_size": 128, "epochs": 6, "activation": "leaky_relu", "T": 10, "state_lr": 0.1,
    "state_momentum": 0.5, "weight_lr": 1e-4, "weight_decay": 1e-4,
}  # fmt: skip
"""The paper's code for Table 4's AlexNet timing (time_benchmarking/ALEXNET/cifar10/PC_SE.yaml
in liukidar/pcx): not tuned values, the paper reports no AlexNet accuracy."""

_DATASET_TITLES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "tinyimagenet": "Tiny ImageNet"}
_MODEL_TITLES = {
    "vgg5": "VGG-5 of Table 5",
    "vgg7": "VGG-7 of Table 5",
    "vgg9": "VGG-9 of Table 1 (VGG-7 grown to 8 convs)",
    "resnet18": "ResNet-18 of Table 1 (CIFAR-style, no batch norm)",
}


def _image_tasks() -> list[TaskInfo]:
    """The paper's other convolutional tasks: Tiny ImageNet for VGG-5/7, VGG-9 and ResNet-18
    of Table 1, VGG-19 of Appendix E (Table 11) and AlexNet of Table 4."""
    tasks = []
    grid = [("vgg5", "tinyimagenet"), ("vgg7", "tinyimagenet")]
    grid += [(m, d) for m in ("vgg9", "resnet18") for d in ("cifar10", "cifar100", "tinyimagenet")]
    for model, dataset in grid:
        tiny = dataset == "tinyimagenet"
        summary = f"{_DATASET_TITLES[dataset]}, {_MODEL_TITLES[model]}"
        if tiny:
            summary += "; 56x56 crops; top-1 and top-5 accuracy"
        elif dataset == "cifar100":
            summary += "; top-1 and top-5 accuracy"
        augmentation = TINYIMAGENET_AUGMENTATION if tiny else CIFAR_AUGMENTATION
        info = TaskInfo(
            f"{model}-{dataset}",
            dataset,
            model,  # type: ignore[arg-type]
            summary,
            defaults=dict(_PAPER_VGG),
            augmentation=augmentation,
        )
        tasks.append(info)
    # Appendix E trains with flips and small rotations; pcsearch has flips only.
    flips = Augmentation(flip=True)
    return tasks + [
        TaskInfo(
            "vgg19-cifar10",
            "cifar10",
            "vgg19",
            "CIFAR-10, VGG-19 without skip connection (Appendix E); Table 11's best values",
            defaults=dict(_VGG19_PLAIN),
            augmentation=flips,
        ),
        TaskInfo(
            "vgg19skip-cifar10",
            "cifar10",
            "vgg19skip",
            "CIFAR-10, VGG-19 with Appendix E's skip into the output; Table 11's best values",
            defaults=dict(_VGG19_SKIP),
            augmentation=flips,
        ),
        TaskInfo(
            "alexnet-cifar10",
            "cifar10",
            "alexnet",
            "CIFAR-10, AlexNet of Table 4's timings (the paper's code's run settings)",
            defaults=dict(_ALEXNET_TIMING),
            augmentation=CIFAR_AUGMENTATION,
        ),
    ]


DATASET_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "mnist": ((784,), 10),
    "fashionmnist": ((784,), 10),
    "digits": ((64,), 10),
    "two-moons": ((2,), 2),
    "two-circles": ((2,), 2),
    "cifar10": ((3, 32, 32), 10),
    "cifar100": ((3, 32, 32), 100),
    "tinyimagenet": ((3, 64, 64), 200),
    "mnist-raw": ((784,), 10),
    "fashionmnist-raw": ((784,), 10),
    "cifar10-raw": ((3, 32, 32), 10),
    "celeba": ((3, 32, 32), 1),
    "iris": ((2,), 3),
    "mnist-parity": ((784,), 2),
}
"""Each dataset's input shape (one example) and number of classes: what synthetic data
for timing and smoke runs is made of, without reading any file."""

_AUTOENCODER = {
    "batch_size": 200, "epochs": 30, "T": 20, "state_optimizer": "sgd",
    "weight_optimizer": "adamw", "weight_schedule": "constant", "init": "zeros",
    "activation": "hard_tanh",
}  # fmt: skip
"""Tables 8 and 9, and the paper's code (examples/autoencoders/*/pc_*.py in liukidar/pcx):
every state starts at zero, h_0 included; AdamW at a constant learning rate; hard_tanh is
its configs' usual activation. The paper's best values per algorithm are in params."""


def _autoencoder_tasks() -> list[TaskInfo]:
    """Section 4.2's reconstruction tasks (Table 2), scored by test MSE per pixel. Pixels
    stay in [0, 1] (the "-raw" data sets), as the paper's code leaves them."""
    linear = _AUTOENCODER | {"latent_dim": 64, "hidden_width": 128, "hidden_layers": 2}
    deconv = _AUTOENCODER | {"kernel_size": 4}
    grid = [
        ("ae-mnist", "mnist-raw", "ae-linear", "MNIST", linear),
        ("ae-fashionmnist", "fashionmnist-raw", "ae-linear", "Fashion-MNIST", linear),
        ("ae-cifar10", "cifar10-raw", "ae-deconv", "CIFAR-10", deconv),
        ("ae-celeba", "celeba", "ae-deconv", "CelebA at 32x32", deconv),
    ]
    layout = {
        "ae-linear": "decoder 64-128-128-784 (Table 9); BP: a mirrored encoder in front",
        "ae-deconv": "deconv decoder from a 4x4x8 latent (Table 8); BP: a conv encoder in front",
    }
    return [
        TaskInfo(
            name,
            dataset,
            model,  # type: ignore[arg-type]
            f"{title} reconstruction, {layout[model]}; pixels in [0, 1]",
            metric="mse",
            direction="minimize",
            defaults=dict(defaults),
            mode="autoencoder",
        )
        for name, dataset, model, title, defaults in grid
    ]


_MCPC = {"weight_optimizer": "adamw", "weight_schedule": "constant", "h_var": 1.0,
         "T_sample": 10_000}  # fmt: skip
_MCPC_IRIS = _MCPC | {
    "latent_dim": 2, "hidden_width": 64, "hidden_layers": 1, "activation": "tanh",
    "state_lr": 0.01, "state_momentum": 0.9, "input_var": 0.01, "weight_lr": 1e-3,
    "weight_decay": 1e-4, "batch_size": 150, "T": 500, "epochs": 68, "init": "forward",
}  # fmt: skip
"""Appendix C.2's iris values; the weight lr (1e-3) and the 68 epochs of 150 batches are the
paper's code's (its iris MCPC script in liukidar/pcx), which the paper does not state."""
_MCPC_MNIST = _MCPC | {"hidden_width": 256, "hidden_layers": 3, "T": 1000, "epochs": 100}
"""Appendix C.2: 256-unit hidden layers, T = 1000 (10000 to generate); 100 epochs as the
paper's code trains. The searched values (Table 10) are the paper's best, in params."""
_MNIST_FID_BEST = {
    "batch_size": 900, "state_lr": 0.01845, "state_momentum": 0.9, "weight_lr": 0.00176,
    "weight_decay": 0.01, "input_var": 0.165, "activation": "relu",
}  # fmt: skip
"""mcpc-mnist's FID-optimised values (the paper's code), lent to the conditional task, for
which the paper publishes none."""


def _sampling_tasks() -> list[TaskInfo]:
    """Section 4.2's MCPC tasks (Appendix C.2): learn p(x) and sample it. Scored by the MMD
    between samples and held-out data (``pcsearch.training.sampling``)."""
    tasks = [
        ("mcpc-iris", "iris", "iris sepal and petal length, 2-64-2 (h_0: 2-d latent)",
         _MCPC_IRIS, "sampling"),
        ("mcpc-mnist", "mnist", "MNIST generation, 30-256-256-256-784 (h_0: 30-d latent)",
         _MCPC_MNIST | {"latent_dim": 30, "init": "zeros"}, "sampling"),
        ("mcpc-mnist-conditional", "mnist-parity",
         "MNIST generation given even/odd, 2-256-256-256-784 (h_0: the one-hot parity); "
         "defaults: mcpc-mnist's FID-best values", _MCPC_MNIST | _MNIST_FID_BEST,
         "conditional-sampling"),
    ]  # fmt: skip
    return [
        TaskInfo(
            name,
            dataset,
            "mlp-generator",
            summary,
            metric="mmd",
            direction="minimize",
            defaults=dict(defaults),
            mode=mode,  # type: ignore[arg-type]
        )
        for name, dataset, summary, defaults, mode in tasks
    ]


_MEMORY = {
    "latent_dim": 512, "hidden_width": 512, "hidden_layers": 2, "activation": "tanh",
    "memory_size": 50, "corruption": "mask", "batch_size": 50, "epochs": 500, "T": 50,
    "T_recall": 50_000, "state_lr": 0.01, "state_momentum": 0.0, "state_optimizer": "sgd",
    "init": "zeros", "weight_optimizer": "adamw", "weight_lr": 5e-4, "weight_decay": 1e-4,
    "weight_schedule": "constant",
}  # fmt: skip
"""Appendix C.3 and the paper's code (examples/associative_memory in liukidar/pcx): a
[512, d, d, pixels] decoder, tanh, 500 epochs of batch 50, every state starting at zero,
states by SGD without momentum, AdamW (optax's default decay 1e-4) at a constant rate. Its
hps.json's best values for a mask, d = 512 and n = 50: gamma 0.5, lr 5e-4, T 50, T_recall
50000. That code steps the states on the batch-mean energy, so its gamma is 50 (the batch)
times pcsearch's per-sample state_lr: 0.5 / 50 = 0.01."""


def _memory_tasks() -> list[TaskInfo]:
    """Section 4.2's associative memories (Table 3, Appendix C.3): memorise ``memory_size``
    images, recall them from noisy or half-masked cues (``pcsearch.training.memory``)."""
    tasks = [
        ("am-mnist", "mnist-raw", "MNIST", "512-512-512-784"),
        ("am-tinyimagenet", "tinyimagenet", "Tiny ImageNet (64x64, flattened)",
         "512-d-d-12288 with d = hidden_width (the paper: 512, 1024, 2048)"),
    ]  # fmt: skip
    return [
        TaskInfo(
            name,
            dataset,
            "mlp-generator",
            f"associative memory of {title}, {layout}; MSE of the first memory_size training "
            "images recalled from noisy or half-masked cues (corruption); pixels in [0, 1]",
            metric="mse",
            direction="minimize",
            defaults=dict(_MEMORY),
            mode="memory",
        )
        for name, dataset, title, layout in tasks
    ]


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
            augmentation=CIFAR_AUGMENTATION,
        ),
        TaskInfo(
            "vgg5-cifar100",
            "cifar100",
            "vgg5",
            "CIFAR-100, VGG-5 of Table 5; top-1 and top-5 accuracy",
            defaults=dict(_PAPER_VGG),
            augmentation=CIFAR_AUGMENTATION,
        ),
        TaskInfo(
            "vgg7-cifar10",
            "cifar10",
            "vgg7",
            "CIFAR-10, VGG-7 of Table 5 (128-128-256-256-512-512 channels)",
            defaults=dict(_PAPER_VGG),
            augmentation=CIFAR_AUGMENTATION,
        ),
        TaskInfo(
            "vgg7-cifar100",
            "cifar100",
            "vgg7",
            "CIFAR-100, VGG-7 of Table 5; top-1 and top-5 accuracy",
            defaults=dict(_PAPER_VGG),
            augmentation=CIFAR_AUGMENTATION,
        ),
        *_image_tasks(),
        *_autoencoder_tasks(),
        *_sampling_tasks(),
        *_memory_tasks(),
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


def check_supported(task: str, algorithm: str) -> None:
    """Refuse an algorithm the task's mode cannot train with, naming the ones it can."""
    info = task_info(task)
    if algorithm not in info.algorithms:
        raise UnsupportedError(
            f"algorithm {algorithm!r} does not apply to task {task!r} ({info.mode} mode); "
            f"choose one of: {', '.join(info.algorithms)}"
        )


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
