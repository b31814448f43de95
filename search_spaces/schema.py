"""A search space: named, versioned, cited data that checks itself against the catalogue.

Construction validates everything that does not depend on a (task, algorithm) pair, so a
``SearchSpace`` that exists is well formed; ``check_for`` adds the pair-specific checks.
Values are normalised through the core's parser, so what Optuna suggests is what the
core accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal, get_args

from optuna.distributions import BaseDistribution
from optuna.trial import BaseTrial

from pcsearch.catalogue import ALGORITHMS, HYPERPARAMETERS, TASKS
from pcsearch.params import applicable
from search_spaces import optuna_bridge
from search_spaces.errors import SearchSpaceError
from search_spaces.parameters import FixedParam, Param, param_from_dict

NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SpaceKind = Literal["bayesian", "grid"]
KINDS: tuple[SpaceKind, ...] = get_args(SpaceKind)
_KEYS = ("name", "version", "source", "description", "kind", "tasks", "algorithms", "params")


def _string_list(owner: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise SearchSpaceError(
            f'{owner}: {key}={value!r} must be a non-empty list of names, e.g. ["mlp-mnist"]'
        )
    bad = [v for v in value if not isinstance(v, str) or not v]
    if bad:
        raise SearchSpaceError(f"{owner}: {key} holds non-name value(s) {bad!r}; use strings")
    return tuple(value)


@dataclass(frozen=True)
class SearchSpace:
    """Ranges of hyperparameters for some tasks and algorithms, with where they come from.

    ``params`` keeps its order (the order trials suggest in). Parameters with ``only_for``
    exist only for those algorithms.
    """

    name: str
    version: int
    source: str
    description: str
    kind: SpaceKind
    tasks: tuple[str, ...]
    algorithms: tuple[str, ...]
    params: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = f"search space {self.name!r}"
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise SearchSpaceError(
                f"search space name {self.name!r} is not lowercase-kebab; use letters, digits "
                f"and single dashes, e.g. 'discriminative-pc' (the version is a separate field)"
            )
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise SearchSpaceError(
                f"{owner}: version={self.version!r} must be an integer >= 1; bump it whenever "
                f"the ranges change"
            )
        for key in ("source", "description"):
            if not isinstance(getattr(self, key), str):
                raise SearchSpaceError(f"{owner}: {key} must be a string")
        if not self.source.strip():
            raise SearchSpaceError(
                f"{owner}: source is empty; cite where the ranges come from, e.g. "
                f"'Table 8 of the paper'"
            )
        if self.kind not in KINDS:
            raise SearchSpaceError(
                f"{owner}: kind={self.kind!r} is not a space kind; use one of: {', '.join(KINDS)}"
            )
        object.__setattr__(self, "tasks", _string_list(owner, "tasks", self.tasks))
        algorithms = _string_list(owner, "algorithms", self.algorithms)
        unknown = [a for a in algorithms if a not in ALGORITHMS]
        if unknown:
            raise SearchSpaceError(
                f"{owner}: unknown algorithm(s) {', '.join(map(repr, unknown))}; choose from: "
                f"{', '.join(ALGORITHMS)}"
            )
        object.__setattr__(self, "algorithms", algorithms)
        object.__setattr__(self, "params", self._checked_params(owner))

    def _checked_params(self, owner: str) -> dict[str, Param]:
        if not isinstance(self.params, Mapping) or not self.params:
            raise SearchSpaceError(
                f"{owner}: params must be a non-empty mapping of hyperparameter name to parameter"
            )
        params: dict[str, Param] = {}
        for name, p in self.params.items():
            if isinstance(p, Mapping):
                params[name] = param_from_dict(name, p)
            elif hasattr(p, "checked"):
                params[name] = p.checked(name)
            else:
                raise SearchSpaceError(f"{owner}: parameter {name!r}={p!r} is not a parameter")
            checked = params[name]
            if self.kind == "grid" and not checked.discrete:
                raise SearchSpaceError(
                    f"{owner}: parameter {name!r} is a continuous float "
                    f"[{checked.low!r}, {checked.high!r}] without a step, but kind is 'grid'; "
                    f"give it a step, make it categorical, or set kind to 'bayesian'"
                )
        return params

    @property
    def ref(self) -> str:
        """``name@version``: what a study records so its space can be found again."""
        return f"{self.name}@{self.version}"

    # -- fit to a (task, algorithm) pair --------------------------------------------------

    def matches_task(self, task: str) -> bool:
        """Whether ``task`` is one the space is meant for (entries may be glob patterns)."""
        return any(fnmatchcase(task, pattern) for pattern in self.tasks)

    def _active(self, algorithm: str) -> dict[str, Param]:
        """The parameters that exist for ``algorithm``, after checking they all apply."""
        if algorithm not in ALGORITHMS:
            raise SearchSpaceError(
                f"unknown algorithm {algorithm!r}; choose from: {', '.join(ALGORITHMS)}"
            )
        if algorithm not in self.algorithms:
            raise SearchSpaceError(
                f"search space {self.ref!r} is not meant for algorithm {algorithm!r}; use one "
                f"of {', '.join(self.algorithms)}, or another space"
            )
        active = {n: p for n, p in self.params.items() if p.applies_to(algorithm)}
        usable = set(applicable(algorithm))
        foreign = [n for n in active if n not in usable]
        if foreign:
            family = ALGORITHMS[algorithm].family
            raise SearchSpaceError(
                f"search space {self.ref!r}: parameter(s) {', '.join(map(repr, foreign))} do "
                f"not apply to {algorithm!r} (family {family!r}); remove them or add "
                f"only_for listing the algorithms they apply to"
            )
        return active

    def check_for(self, task: str, algorithm: str) -> None:
        """Raise SearchSpaceError unless the space can drive a study of (task, algorithm)."""
        if task not in TASKS:
            raise SearchSpaceError(f"unknown task {task!r}; choose from: {', '.join(TASKS)}")
        if not self.matches_task(task):
            raise SearchSpaceError(
                f"search space {self.ref!r} is meant for tasks {', '.join(self.tasks)}, not "
                f"{task!r}; pick a space for {task!r} (see search_spaces.default_space) or add "
                f"the task to the space's tasks"
            )
        active = self._active(algorithm)
        for_model = set(applicable(algorithm, task))
        foreign = [n for n in active if n not in for_model]
        if foreign:
            raise SearchSpaceError(
                f"search space {self.ref!r}: parameter(s) {', '.join(map(repr, foreign))} do "
                f"not apply to task {task!r} (model {TASKS[task].model!r}); use a space "
                f"without them for this task"
            )

    # -- to Optuna --------------------------------------------------------------------------

    def param_names(self, algorithm: str) -> list[str]:
        """Names of all parameters (searched and fixed) that exist for ``algorithm``."""
        return list(self._active(algorithm))

    def fixed(self, algorithm: str) -> dict[str, Any]:
        """The values the space pins for ``algorithm``: not searched, merged into trials."""
        return {n: p.value for n, p in self._active(algorithm).items() if isinstance(p, FixedParam)}

    def distributions(self, algorithm: str) -> dict[str, BaseDistribution]:
        """Optuna distributions of the searched parameters, e.g. for ``study.ask``."""
        return {
            n: optuna_bridge.to_distribution(n, p)
            for n, p in self._active(algorithm).items()
            if not isinstance(p, FixedParam)
        }

    def suggest(self, trial: BaseTrial, algorithm: str) -> dict[str, Any]:
        """Sample every searched parameter from ``trial``, fixed values merged, in order."""
        return {
            n: optuna_bridge.suggest_value(trial, n, p) for n, p in self._active(algorithm).items()
        }

    def grid(self, algorithm: str) -> dict[str, list[Any]]:
        """Values of each searched parameter, as ``optuna.samplers.GridSampler`` wants them."""
        return {
            n: optuna_bridge.grid_values(n, p)
            for n, p in self._active(algorithm).items()
            if not isinstance(p, FixedParam)
        }

    def grid_size(self, algorithm: str) -> int:
        """How many trials a full grid takes for ``algorithm``."""
        size = 1
        for values in self.grid(algorithm).values():
            size *= len(values)
        return size

    # -- serialisation --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-ready data; ``from_dict(to_dict())`` gives an equal space."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "description": self.description,
            "kind": self.kind,
            "tasks": list(self.tasks),
            "algorithms": list(self.algorithms),
            "params": {n: p.to_dict() for n, p in self.params.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> SearchSpace:
        """Build and validate a space; unknown or missing keys are errors that name them."""
        if not isinstance(data, Mapping):
            raise SearchSpaceError(
                f"a search space must be a mapping with keys {', '.join(_KEYS)}; got "
                f"{type(data).__name__}"
            )
        unknown = [k for k in data if k not in _KEYS]
        if unknown:
            raise SearchSpaceError(
                f"search space {data.get('name')!r}: unknown key(s) "
                f"{', '.join(map(repr, unknown))}; allowed keys: {', '.join(_KEYS)}"
            )
        missing = [k for k in _KEYS if k not in data]
        if missing:
            raise SearchSpaceError(
                f"search space {data.get('name')!r}: missing key(s) {', '.join(map(repr, missing))}"
            )
        params = data["params"]
        if not isinstance(params, Mapping):
            raise SearchSpaceError(
                f"search space {data['name']!r}: params must map hyperparameter names to "
                f"parameters; valid names: {', '.join(HYPERPARAMETERS)}"
            )
        return cls(**{k: data[k] for k in _KEYS if k != "params"}, params=dict(params))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent) + ("\n" if indent else "")

    @classmethod
    def from_json(cls, text: str) -> SearchSpace:
        from search_spaces.io import loads

        return loads(text, "json")

    def save(self, path: str | Path) -> None:
        """Write to ``.json``, ``.yaml`` or ``.yml`` (chosen by the suffix)."""
        from search_spaces.io import save

        save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Read a ``.json``, ``.yaml`` or ``.yml`` file."""
        from search_spaces.io import load

        return load(path)
