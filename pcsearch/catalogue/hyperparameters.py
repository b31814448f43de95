"""The hyperparameters of the vocabulary: kind, range, and where each one applies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from pcsearch.catalogue.algorithms import Family
from pcsearch.catalogue.models import MODELS, models_reading
from pcsearch.catalogue.modes import MODES
from pcsearch.catalogue.registry import by_name
from pcsearch.errors import RegistryError


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
    """The models (``TaskInfo.model``) it applies to; None: every model. Derived from
    ``ModelInfo.hyperparameters`` (pcsearch/catalogue/models.py): never set it here."""
    modes: tuple[str, ...] | None = None
    """The modes (``TaskInfo.mode``) it applies to; None: every mode."""


ACTIVATIONS = ("relu", "leaky_relu", "gelu", "tanh", "hard_tanh", "silu")
PC_FAMILIES: tuple[Family, ...] = ("pc", "ipc", "nudging", "mcpc")

_LISTED: dict[str, HyperparameterInfo] = by_name(
    [
        HyperparameterInfo(
            "T", "int", "inference steps per batch", low=1, high=10_000, families=PC_FAMILIES
        ),
        HyperparameterInfo(
            "state_lr",
            "float",
            "state learning rate (of each example's energy; see state_energy)",
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
            "state_energy",
            "choice",
            "what state_lr is a rate of: each example's own energy (sum) or the batch-mean "
            "energy (mean: state gradients 1/batch_size as large); the task says which its "
            "values assume",
            choices=("sum", "mean"),
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
        HyperparameterInfo(
            "beta_limit",
            "choice",
            "once |beta| reaches 1: plain-pc (+1 whatever the sign: Appendix B, the paper's "
            "VGG scripts and PC.py) or clip (sign * 1: its v0.6.1 MLP scripts)",
            choices=("plain-pc", "clip"),
            families=("nudging",),
        ),
        HyperparameterInfo("batch_size", "int", "examples per batch", low=1, high=100_000),
        HyperparameterInfo("epochs", "int", "passes over the training set", low=1, high=10_000),
        HyperparameterInfo("hidden_width", "int", "units per hidden layer", low=1, high=65_536),
        HyperparameterInfo("hidden_layers", "int", "number of hidden layers", low=0, high=64),
        # Task-specific: autoencoders, MCPC and associative memory (spaces only, for now).
        HyperparameterInfo("kernel_size", "int", "deconvolution kernel size", low=1, high=15),
        HyperparameterInfo(
            "latent_dim", "int", "bottleneck width (a free h_0)", low=1, high=65_536
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
            "layout",
            "choice",
            "MCPC generator: code (the paper's code: states before the activation, mu = "
            "W f(h) + b; unconditionally no latent, the first hidden state's prior N(b_0, I) "
            "around a learned bias) or paper-text (Appendix C.2: a free latent_dim-wide "
            "h_0 ~ N(0, I), states after the activation)",
            choices=("code", "paper-text"),
            families=("mcpc",),
        ),
        HyperparameterInfo(
            "data_activation",
            "choice",
            "MCPC generator's data-layer activation: tanh (the code's MNIST scripts, pixels "
            "in [-1, 1]) or none (linear)",
            choices=("none", "tanh"),
            families=("mcpc",),
        ),
        HyperparameterInfo(
            "sample_from",
            "choice",
            "what an MCPC sample is after T_sample steps: the data layer's noise-free "
            "prediction (the code's MNIST scripts) or its noisy state (its iris script)",
            choices=("prediction", "state"),
            families=("mcpc",),
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
    ],
    "hyperparameter",
)


def _check() -> None:
    """Models name hyperparameters that exist; hyperparameters name modes that exist."""
    for model in MODELS.values():
        unknown = [h for h in model.hyperparameters if h not in _LISTED]
        if unknown:
            raise RegistryError(
                f"model {model.name!r} reads hyperparameters {unknown} that "
                "pcsearch.catalogue.HYPERPARAMETERS does not describe; add them there"
            )
    for h in _LISTED.values():
        if h.models is not None:
            raise RegistryError(
                f"hyperparameter {h.name!r} sets models=; list it in the models' "
                "ModelInfo.hyperparameters (pcsearch/catalogue/models.py) instead"
            )
        if h.modes is not None and not set(h.modes) <= set(MODES):
            raise RegistryError(
                f"hyperparameter {h.name!r} names modes {h.modes} that pcsearch.catalogue.MODES "
                "does not describe"
            )


_check()
HYPERPARAMETERS: dict[str, HyperparameterInfo] = {
    n: replace(h, models=models_reading(n)) for n, h in _LISTED.items()
}
