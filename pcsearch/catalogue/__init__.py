"""What exists: tasks, algorithms, models, data sets, modes and hyperparameters, as plain data.

This package never imports JAX, so the API image and the search spaces can use it
without an accelerator stack. One list per kind of name lives here (``ALGORITHMS``,
``MODELS``, ``DATASETS``, ``MODES``); the core's registries beside the code that builds
each (``pcsearch.algorithms.BUILDERS``, ``pcsearch.models.BUILDERS``,
``pcsearch.data.datasets.LOADERS``, ``pcsearch.training.modes.SETUPS``) are checked
against them when imported (``pcsearch.catalogue.registry``).
"""

from __future__ import annotations

from typing import Any

from pcsearch.catalogue.algorithms import ALGORITHMS, AlgorithmInfo, Family
from pcsearch.catalogue.datasets import DATASET_SHAPES, DATASETS, DatasetInfo
from pcsearch.catalogue.discriminative_tasks import discriminative_tasks
from pcsearch.catalogue.generative_tasks import (
    autoencoder_tasks,
    memory_tasks,
    sampling_tasks,
)
from pcsearch.catalogue.hyperparameters import (
    ACTIVATIONS,
    HYPERPARAMETERS,
    PC_FAMILIES,
    HyperparameterInfo,
)
from pcsearch.catalogue.models import MODELS, ModelInfo
from pcsearch.catalogue.modes import MODE_ALGORITHMS, MODES, Mode, ModeInfo
from pcsearch.catalogue.ood import ood_tasks
from pcsearch.catalogue.registry import by_name
from pcsearch.catalogue.task_types import (
    CIFAR_AUGMENTATION,
    NO_AUGMENTATION,
    TINYIMAGENET_AUGMENTATION,
    Augmentation,
    TaskInfo,
)
from pcsearch.errors import UnknownNameError, UnsupportedError

TASKS: dict[str, TaskInfo] = by_name(
    [
        *discriminative_tasks(),
        *ood_tasks(),
        *autoencoder_tasks(),
        *sampling_tasks(),
        *memory_tasks(),
    ],
    "task",
)


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


__all__ = [
    "ACTIVATIONS", "ALGORITHMS", "CIFAR_AUGMENTATION", "DATASETS", "DATASET_SHAPES",
    "HYPERPARAMETERS", "MODELS", "MODES", "MODE_ALGORITHMS", "NO_AUGMENTATION", "PC_FAMILIES",
    "TASKS", "TINYIMAGENET_AUGMENTATION", "AlgorithmInfo", "Augmentation", "DatasetInfo",
    "Family", "HyperparameterInfo", "Mode", "ModeInfo", "ModelInfo", "TaskInfo",
    "algorithm_info", "check_supported", "hyperparameter_info", "task_info",
]  # fmt: skip
