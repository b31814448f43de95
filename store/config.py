"""What a study is for, stored on the study itself so any worker can pick it up.

Optuna's storage is the source of truth: the configuration lives in a study system
attribute (``store.attrs.STORED_CONFIG``; studies of older versions: the user attribute
``pcsearch``), next to the trials it produced. Read it with ``store.attrs.stored``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pcsearch.catalogue import algorithm_info, task_info
from pcsearch.params import resolve
from search_spaces import SearchSpace
from store import samplers
from store.errors import StoreError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
NAME_RULE = (
    "letters, digits, '.', '_' and '-', at most 100 characters, starting with a letter or "
    "digit, and no '..'"
)


def check_study_name(name: str) -> str:
    """Study names become log folders and dashboard URLs: a safe character set only."""
    if not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise StoreError(f"study name {name!r} is not allowed; use {NAME_RULE}")
    return name


SAMPLERS = tuple(samplers.SAMPLERS)
PRUNERS = tuple(samplers.PRUNERS)
"""Their names, for the CLI's and the API's choices (the registries: ``store.samplers``)."""
OBJECTIVES = ("best", "last")


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
    objective: str = "best"
    """What a trial's value is: its ``best`` epoch's metric (the paper's code) or its
    ``last`` epoch's. The per-epoch history is stored either way."""
    energy_trace: bool = False
    """Store each trial's energy per layer and inference step after training (PC only)."""
    seeds: list[int] | None = None
    """A rerun study: one trial per seed, every hyperparameter fixed (``pcsearch rerun``)."""
    rerun_of: str | None = None
    """The study whose best configuration a rerun study repeats, if any."""
    keep_best: int | None = None
    """Reports summarise the best ``keep_best`` seeds of a rerun study (the paper: 5 of 7)."""
    synthetic: bool = False
    """Train on random data of the task's shapes (timing and smoke runs), labelled so."""
    max_batches: int | None = None
    """Cut every epoch (and the test set) to this many batches."""
    warm_start: bool = True
    """The study's first trial runs the paper's best values for (task, algorithm), where
    the paper gives them (see :mod:`store.warm_start`); stored configs from before this
    field load with the default, which matters only when a study is created."""

    def __post_init__(self) -> None:
        task_info(self.task)
        algorithm_info(self.algorithm)
        self.search_space().check_for(self.task, self.algorithm)
        for name, value, allowed in (
            ("sampler", self.sampler, SAMPLERS),
            ("pruner", self.pruner, PRUNERS),
            ("objective", self.objective, OBJECTIVES),
        ):
            if value not in allowed:
                raise StoreError(
                    f"{name}={value!r} is unknown; choose one of: {', '.join(allowed)}"
                )
        resolve(self.task, self.algorithm, self.overrides)  # e.g. epochs=0 fails here, named
        if self.n_trials < 1:
            raise StoreError(f"n_trials={self.n_trials} must be at least 1")
        if not isinstance(self.warm_start, bool):
            raise StoreError(f"warm_start={self.warm_start!r} must be true or false")
        if self.batch < 1:
            raise StoreError(f"batch={self.batch} must be at least 1")
        if self.max_batches is not None and self.max_batches < 1:
            raise StoreError(f"max_batches={self.max_batches} must be at least 1")
        if self.sampler == "grid" and self.batch > 1:
            raise StoreError("batch > 1 cannot be combined with the grid sampler; use --batch 1")
        if self.seeds is not None:
            if not self.seeds or len(set(self.seeds)) != len(self.seeds):
                raise StoreError(f"seeds={self.seeds!r} must be distinct and at least one")
            if self.n_trials != len(self.seeds):
                raise StoreError(
                    f"n_trials={self.n_trials} must equal the number of seeds ({len(self.seeds)})"
                )
        if self.keep_best is not None and not 1 <= self.keep_best <= self.n_trials:
            raise StoreError(
                f"keep_best={self.keep_best} must be between 1 and the number of trials "
                f"({self.n_trials})"
            )
        is_grid = self.search_space().kind == "grid"
        if is_grid != (self.sampler == "grid"):
            raise StoreError(
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
        """The config stored on a study; one made by a newer pcsearch is refused clearly."""
        if not isinstance(data, dict):
            raise StoreError(f"the study's pcsearch config is not an object: {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise StoreError(
                f"the study was made by a newer pcsearch (unknown config fields: "
                f"{', '.join(unknown)}); upgrade pcsearch on this machine"
            )
        try:
            return cls(**data)
        except TypeError as error:
            raise StoreError(f"the study's pcsearch config is incomplete: {error}") from None
