"""What a study is for, stored on the study itself so any worker can pick it up.

Optuna's storage is the source of truth: the configuration lives in a study system
attribute (``store.attrs.STORED_CONFIG``; studies of older versions: the user attribute
``pcsearch``), next to the trials it produced. Read it with ``store.attrs.stored``.

Its options are checked here and only here (:func:`find_problems`), every problem at once
and on its field: the CLI prints them on one line, the API answers one 422 entry per field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from types import SimpleNamespace
from typing import Any, Literal, get_args

from pcsearch.catalogue import algorithm_info, check_supported, task_info
from pcsearch.errors import PCSearchError
from pcsearch.params import resolve
from pcsearch.training.epoch_loop import check_epoch_loop
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
Objective = Literal["best", "last"]
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)


def default_sampler(space: SearchSpace) -> str:
    """The sampler of a study that names none: a grid space is enumerated, any other
    searched with TPE (the CLI and the API both ask here)."""
    return "grid" if space.kind == "grid" else "tpe"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a study's options, pinned on the config field it concerns."""

    field: str
    message: str


class InvalidConfig(StoreError):
    """A study's options with problems: all of them at once, each on its field, so the API
    can answer one entry per field and the CLI print every problem on one line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


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
    epoch_loop: str = "auto"
    """How each trial drives its epoch (``pcsearch.training.epoch_loop``): ``auto``, the
    measured choice per backend and model, or a loop by name for experiments."""
    warm_start: bool = True
    """The study's first trial runs the paper's best values for (task, algorithm), where
    the paper gives them (see :mod:`store.warm_start`); stored configs from before this
    field load with the default, which matters only when a study is created."""

    def __post_init__(self) -> None:
        """Refuse bad options with every problem at once (:func:`find_problems`)."""
        problems = find_problems(vars(self))
        if self.space is None:  # find_problems skips a space not known yet; a study needs one
            problems.insert(0, Problem("space", "space is missing; give a search space"))
        if problems:
            raise InvalidConfig(problems)

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


def find_problems(options: Mapping[str, Any]) -> list[Problem]:
    """Every problem of a study's options (StudyConfig's fields by name; the defaults for
    those left out), each on its field. A ``space`` of None is one the caller could not
    make and reports itself: the checks that need a space are skipped. A check that
    builds on another (the space's fit needs a valid, supported task and algorithm) is
    skipped when that one failed, so each mistake is reported once."""
    c = SimpleNamespace(**_with_defaults(options))
    found: list[Problem] = []

    def add(field: str, message: str | None) -> bool:
        """Record ``message`` (if any) on ``field``; whether the field was fine."""
        if message is not None:
            found.append(Problem(field, message))
        return message is None

    task_ok = add("task", _error(lambda: task_info(c.task)))
    algorithm_ok = add("algorithm", _error(lambda: algorithm_info(c.algorithm)))
    if task_ok and algorithm_ok:  # e.g. mcpc samples: it cannot train a classifier
        algorithm_ok = add("algorithm", _error(lambda: check_supported(c.task, c.algorithm)))
    pair_ok = task_ok and algorithm_ok
    space = None
    if c.space is not None:
        try:
            space = SearchSpace.from_dict(c.space)
        except PCSearchError as error:
            add("space", str(error))
    if space is not None and pair_ok:  # a misfit is recorded; the sampler is still checked
        add("space", _error(lambda: space.check_for(c.task, c.algorithm)))
    sampler_ok = add("sampler", _unknown("sampler", c.sampler, SAMPLERS))
    if sampler_ok and space is not None and (space.kind == "grid") != (c.sampler == "grid"):
        add(
            "sampler",
            f"space {space.ref!r} is a {space.kind} space but the sampler is {c.sampler!r}; "
            f"use the grid sampler with grid spaces only (or leave the sampler out)",
        )
    add("pruner", _unknown("pruner", c.pruner, PRUNERS))
    add("objective", _unknown("objective", c.objective, OBJECTIVES))
    if pair_ok:  # e.g. epochs=0 fails here, named
        add("overrides", _error(lambda: resolve(c.task, c.algorithm, c.overrides)))
    if c.n_trials < 1:
        add("n_trials", f"n_trials={c.n_trials} must be at least 1")
    if not isinstance(c.warm_start, bool):
        add("warm_start", f"warm_start={c.warm_start!r} must be true or false")
    if c.batch < 1:
        add("batch", f"batch={c.batch} must be at least 1")
    elif c.batch > 1 and c.sampler == "grid":
        add(
            "batch",
            f"batch > 1 cannot be combined with the grid sampler (batch={c.batch}); use batch 1",
        )
    if c.max_batches is not None and c.max_batches < 1:
        add("max_batches", f"max_batches={c.max_batches} must be at least 1")
    add("epoch_loop", _error(lambda: check_epoch_loop(c.epoch_loop)))
    if c.seeds is not None:
        if not c.seeds or len(set(c.seeds)) != len(c.seeds):
            add("seeds", f"seeds={c.seeds!r} must be distinct and at least one")
        elif c.n_trials != len(c.seeds):
            add(
                "n_trials",
                f"n_trials={c.n_trials} must equal the number of seeds ({len(c.seeds)})",
            )
    if c.keep_best is not None and c.n_trials >= 1 and not 1 <= c.keep_best <= c.n_trials:
        add(
            "keep_best",
            f"keep_best={c.keep_best} must be between 1 and the number of trials ({c.n_trials})",
        )
    return found


def _with_defaults(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` completed with StudyConfig's defaults; a name it lacks is a TypeError,
    as calling StudyConfig with it would be."""
    unknown = sorted(set(options) - {f.name for f in fields(StudyConfig)})
    if unknown:
        raise TypeError(f"StudyConfig has no field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for f in fields(StudyConfig):
        if f.name in options:
            values[f.name] = options[f.name]
        elif f.default is not MISSING:
            values[f.name] = f.default
        elif f.default_factory is not MISSING:
            values[f.name] = f.default_factory()
        else:
            raise TypeError(f"StudyConfig needs {f.name!r}")
    return values


def _unknown(name: str, value: Any, allowed: Sequence[str]) -> str | None:
    if value in allowed:
        return None
    return f"{name}={value!r} is unknown; choose one of: {', '.join(allowed)}"


def _error(step: Callable[[], object]) -> str | None:
    """The message of the PCSearchError ``step`` raises, or None when it passes."""
    try:
        step()
    except PCSearchError as error:
        return str(error)
    return None
