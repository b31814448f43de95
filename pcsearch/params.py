"""Hyperparameters: defaults, the paper's best values, and parsing of user input.

Resolution order, later wins: global defaults, the task's defaults, the paper's best
values for (task, algorithm), the caller's overrides; then, for an associative-memory task,
the values of the cell of Table 3 they select (pcsearch/catalogue/memory_cells.json) in
place of every value the caller did not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pcsearch.catalogue import (
    ALGORITHMS,
    HYPERPARAMETERS,
    TASKS,
    HyperparameterInfo,
    algorithm_info,
    check_supported,
    hyperparameter_info,
    task_info,
)
from pcsearch.catalogue.memory_cells import with_cell_values
from pcsearch.catalogue.paper_best import FILE, PAPER_VALUES, WITHOUT_BEST
from pcsearch.errors import InvalidValueError, RegistryError, UnknownNameError

GLOBAL_DEFAULTS: dict[str, Any] = {
    "T": 8,
    "state_lr": 0.01,
    "state_momentum": 0.5,
    "state_optimizer": "sgd",
    "weight_lr": 1e-3,
    "weight_decay": 1e-4,
    "weight_optimizer": "adamw",
    "weight_momentum": 0.0,
    "weight_schedule": "warmup-cosine",
    "activation": "gelu",
    "init": "forward",
    "init_std": 0.1,
    "beta": 0.5,
    "beta_increment": 0.0,
    "beta_limit": "plain-pc",
    "batch_size": 128,
    "epochs": 10,
    "hidden_width": 128,
    "hidden_layers": 3,
    "h_var": 1.0,
    "input_var": 1.0,
    "T_sample": 10_000,
}

PAPER_BEST: dict[tuple[str, str], dict[str, Any]] = {
    key: entry.values for key, entry in PAPER_VALUES.items()
}
"""The paper's best values per (task, algorithm): pcsearch/catalogue/paper_best.json, where
each entry names its source."""

PAPER_TASKS = tuple(dict.fromkeys([*(task for task, _ in PAPER_BEST), *WITHOUT_BEST]))
"""Tasks whose defaults should be the paper's: a missing best value there is worth a note."""


def applicable(algorithm: str, task: str | None = None) -> list[str]:
    """Hyperparameter names that mean something for this algorithm (and the task's model
    and mode: ``hidden_width`` never reaches a VGG, ``T_recall`` only associative memory)."""
    family = ALGORITHMS[algorithm].family
    info = task_info(task) if task is not None else None
    return [
        n
        for n, h in HYPERPARAMETERS.items()
        if family in h.families
        and (info is None or h.models is None or info.model in h.models)
        and (info is None or h.modes is None or info.mode in h.modes)
    ]


def coerce(info: HyperparameterInfo, value: Any) -> Any:
    """Parse one value (a string from the CLI or a typed value) and check its range."""
    name = info.name
    if info.kind == "choice":
        if not isinstance(value, str) or value not in info.choices:
            raise InvalidValueError(
                f"{name}={value!r} is not allowed; choose one of: {', '.join(info.choices)}"
            )
        return value
    try:
        if info.kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            parsed: int | float = int(value)
        else:
            if isinstance(value, bool):
                raise ValueError
            parsed = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(
            f"{name}={value!r} is not a valid {info.kind}; give a number, e.g. {name}="
            f"{GLOBAL_DEFAULTS.get(name, 1)}"
        ) from None
    if info.low is not None and info.high is not None and not info.low <= parsed <= info.high:
        raise InvalidValueError(
            f"{name}={parsed!r} is outside [{info.low}, {info.high}]; pick a value in that range"
        )
    return parsed


def sources(task: str, algorithm: str) -> dict[str, str]:
    """Where each default of (task, algorithm) comes from: ``paper`` (its best value),
    ``task`` (the task's definition) or ``pcsearch`` (a global default, not the paper's)."""
    names = applicable(algorithm, task)
    origin: dict[str, str] = {}
    layers = (
        ("pcsearch", GLOBAL_DEFAULTS),
        ("task", task_info(task).defaults),
        ("paper", PAPER_BEST.get((task, algorithm), {})),
    )
    for label, layer in layers:
        origin.update({k: label for k in layer if k in names})
    return origin


def missing_paper_values(task: str, algorithm: str) -> str | None:
    """A note when the paper gives no best values for a paper task, else None."""
    if task not in PAPER_TASKS:
        return None
    given = PAPER_BEST.get((task, algorithm), {})
    missing = [n for n in ("weight_lr", "weight_decay") if n not in given]
    if given and missing:
        return (
            f"the paper gives no {' or '.join(missing)} for {algorithm} on {task}; "
            "pcsearch's global defaults are used for those: search them, or set them with --set"
        )
    if given:
        return None
    return (
        f"the paper gives no best hyperparameters for {algorithm} on {task}; "
        "pcsearch's global defaults are used (they may lie outside the paper's search "
        "ranges): search them, or set them with --set"
    )


def check_values(values: Mapping[str, Any]) -> None:
    """Rules that span one value's range: a zero beta would divide by zero."""
    if "beta" in values and values["beta"] <= 0.0:
        raise InvalidValueError(
            f"beta={values['beta']!r} is not allowed: nudging scales the weight gradients by "
            "1/beta; choose beta in (0, 1]"
        )


def _check_paper_best() -> None:
    """Every entry of the paper's values names a task, an algorithm it trains with, and
    hyperparameters that apply there: a typo in the JSON fails at import, not silently."""
    for (task, algorithm), entry in PAPER_VALUES.items():
        if task not in TASKS or algorithm not in TASKS[task].algorithms:
            raise RegistryError(
                f"{FILE}: ({task!r}, {algorithm!r}) is not a task with an algorithm it trains "
                "with (pcsearch.catalogue.TASKS); fix the names"
            )
        stray = [n for n in entry.values if n not in applicable(algorithm, task)]
        if stray:
            raise RegistryError(
                f"{FILE}: ({task!r}, {algorithm!r}) sets {stray}, which do not apply there"
            )
    for task in WITHOUT_BEST:
        if task not in TASKS or any(t == task for t, _ in PAPER_VALUES):
            raise RegistryError(
                f"{FILE}: without_best lists {task!r}, which is no task or has values"
            )


def resolve(task: str, algorithm: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """The full, checked hyperparameter mapping for one run."""
    task_info(task)
    algorithm_info(algorithm)
    check_supported(task, algorithm)
    names = applicable(algorithm, task)
    values: dict[str, Any] = {}
    layers = (GLOBAL_DEFAULTS, task_info(task).defaults, PAPER_BEST.get((task, algorithm), {}))
    for layer in layers:
        values.update({k: v for k, v in layer.items() if k in names})
    for name, value in (overrides or {}).items():
        info = hyperparameter_info(name)
        if name not in names:
            if info.models is not None and task_info(task).model not in info.models:
                raise UnknownNameError(
                    f"hyperparameter {name!r} does not apply to task {task!r} (model "
                    f"{task_info(task).model!r}); it applies to {', '.join(info.models)} "
                    f"models. Parameters of {algorithm} on {task}: {', '.join(names)}"
                )
            if info.modes is not None and task_info(task).mode not in info.modes:
                raise UnknownNameError(
                    f"hyperparameter {name!r} does not apply to task {task!r} "
                    f"({task_info(task).mode} mode); it applies to {', '.join(info.modes)} "
                    f"tasks. Parameters of {algorithm} on {task}: {', '.join(names)}"
                )
            users = [a for a, i in ALGORITHMS.items() if i.family in info.families]
            raise UnknownNameError(
                f"hyperparameter {name!r} does not apply to {algorithm!r}; it applies to "
                f"{', '.join(users)}. Parameters of {algorithm}: {', '.join(names)}"
            )
        values[name] = coerce(info, value)
    values = with_cell_values(task, values, overrides=set(overrides or {}))
    check_values(values)
    return values


_check_paper_best()
