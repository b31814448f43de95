"""What a study is for, stored on the study itself so any worker can pick it up.

Optuna's storage is the source of truth: the configuration lives in the study's user
attributes under ``pcsearch``, next to the trials it produced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pcsearch.catalogue import algorithm_info, task_info
from search_spaces import SearchSpace
from workers.errors import WorkerError

CONFIG_ATTR = "pcsearch"
SAMPLERS = ("tpe", "random", "grid", "cmaes")
PRUNERS = ("median", "halving", "hyperband", "none")


@dataclass
class StudyConfig:
    task: str
    algorithm: str
    space: dict[str, Any]
    """The search space as data (``SearchSpace.to_dict()``), so the study is self-contained."""
    n_trials: int
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    """Fixed hyperparameters on top of the space, e.g. ``{"epochs": 3}``."""
    batch: int = 1
    data_dir: str | None = None

    def __post_init__(self) -> None:
        task_info(self.task)
        algorithm_info(self.algorithm)
        self.search_space().check_for(self.task, self.algorithm)
        for name, value, allowed in (
            ("sampler", self.sampler, SAMPLERS),
            ("pruner", self.pruner, PRUNERS),
        ):
            if value not in allowed:
                raise WorkerError(
                    f"{name}={value!r} is unknown; choose one of: {', '.join(allowed)}"
                )
        if self.n_trials < 1:
            raise WorkerError(f"n_trials={self.n_trials} must be at least 1")
        if self.batch < 1:
            raise WorkerError(f"batch={self.batch} must be at least 1")
        if self.sampler == "grid" and self.batch > 1:
            raise WorkerError("batch > 1 cannot be combined with the grid sampler; use --batch 1")
        is_grid = self.search_space().kind == "grid"
        if is_grid != (self.sampler == "grid"):
            raise WorkerError(
                f"space {self.space['name']!r} is a {self.search_space().kind} space but the "
                f"sampler is {self.sampler!r}; use --sampler grid with grid spaces only"
            )

    def search_space(self) -> SearchSpace:
        return SearchSpace.from_dict(self.space)

    @property
    def direction(self) -> str:
        return task_info(self.task).direction

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyConfig:
        return cls(**data)
