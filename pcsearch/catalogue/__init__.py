"""What exists: tasks, algorithms and hyperparameters, as plain data.

This package never imports JAX, so the API image and the search spaces can use it
without an accelerator stack.
"""

from __future__ import annotations

from typing import Any

from pcsearch.catalogue.algorithms import ALGORITHMS, AlgorithmInfo, Family
from pcsearch.catalogue.datasets import DATASET_SHAPES
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
from pcsearch.catalogue.task_types import (
    CIFAR_AUGMENTATION,
    MODE_ALGORITHMS,
    NO_AUGMENTATION,
    TINYIMAGENET_AUGMENTATION,
    Augmentation,
    Mode,
    TaskInfo,
)
from pcsearch.errors import UnknownNameError, UnsupportedError

TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in [
        *discriminative_tasks(),
        *autoencoder_tasks(),
        *sampling_tasks(),
        *memory_tasks(),
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


__all__ = [
    "ACTIVATIONS", "ALGORITHMS", "CIFAR_AUGMENTATION", "DATASET_SHAPES", "HYPERPARAMETERS",
    "MODE_ALGORITHMS", "NO_AUGMENTATION", "PC_FAMILIES", "TASKS", "TINYIMAGENET_AUGMENTATION",
    "AlgorithmInfo", "Augmentation", "Family", "HyperparameterInfo", "Mode", "TaskInfo",
    "algorithm_info", "check_supported", "hyperparameter_info", "task_info",
]  # fmt: skip
