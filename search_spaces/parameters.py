"""The four kinds of search-space parameter and their checks against the core's catalogue.

A parameter does not know its own name: the space owns the names, and calls
``checked(name)`` so that every message can say which parameter is wrong. ``checked``
also normalises values through ``pcsearch.params.coerce``, the same parser the core uses,
so a space can never hand the core a value it would reject.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from pcsearch.catalogue import ALGORITHMS, HYPERPARAMETERS, HyperparameterInfo
from pcsearch.errors import InvalidValueError
from pcsearch.params import coerce
from search_spaces.errors import SearchSpaceError

_STEP_TOLERANCE = 1e-9


def hyperparameter(name: str) -> HyperparameterInfo:
    """The catalogue entry for ``name``; unknown names list the valid ones."""
    try:
        return HYPERPARAMETERS[name]
    except KeyError:
        raise SearchSpaceError(
            f"unknown parameter {name!r}; rename it to one of: "
            f"{', '.join(HYPERPARAMETERS)} (or add it to pcsearch.catalogue.HYPERPARAMETERS)"
        ) from None


def _core_value(info: HyperparameterInfo, value: Any, what: str) -> Any:
    """``value`` parsed as the core would parse it; errors keep the core's message and fix."""
    try:
        return coerce(info, value)
    except InvalidValueError as err:
        raise SearchSpaceError(f"parameter {info.name!r}, {what}: {err}") from None


def _check_kind(info: HyperparameterInfo, declared: str) -> None:
    if info.kind != declared:
        raise SearchSpaceError(
            f"parameter {info.name!r} is declared type {declared!r} but the core treats it as "
            f"{info.kind!r}; declare it as type {info.kind!r}, 'categorical' or 'fixed'"
        )


def _check_only_for(name: str, only_for: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if only_for is None:
        return None
    if isinstance(only_for, str) or not only_for:
        raise SearchSpaceError(
            f"parameter {name!r}: only_for={only_for!r} must be a non-empty list of algorithm "
            f"names; omit only_for to keep the parameter for every algorithm"
        )
    unknown = [a for a in only_for if a not in ALGORITHMS]
    if unknown:
        raise SearchSpaceError(
            f"parameter {name!r}: only_for names unknown algorithm(s) "
            f"{', '.join(map(repr, unknown))}; choose from: {', '.join(ALGORITHMS)}"
        )
    return tuple(only_for)


def _check_range(name: str, low: float, high: float, log: bool) -> None:
    if low > high:
        raise SearchSpaceError(
            f"parameter {name!r}: low={low!r} is greater than high={high!r}; swap them or fix "
            f"the range so that low <= high"
        )
    if log and low <= 0:
        raise SearchSpaceError(
            f"parameter {name!r}: a log range needs low > 0, got low={low!r}; raise low to a "
            f"positive value (e.g. {high / 1000:g}) or set log to false"
        )


def steps_in(low: float, high: float, step: float) -> int:
    """How many steps of ``step`` lead from low to high; the caller has checked they fit."""
    return round((high - low) / step)


def _check_step_fits(name: str, low: float, high: float, step: float) -> None:
    if step <= 0:
        raise SearchSpaceError(
            f"parameter {name!r}: step={step!r} must be positive; use a step > 0 or omit it"
        )
    k = (high - low) / step
    if abs(k - round(k)) > _STEP_TOLERANCE * max(1.0, abs(k)):
        fitted = low + math.floor(k) * step
        raise SearchSpaceError(
            f"parameter {name!r}: step={step!r} does not fit the range [{low!r}, {high!r}] "
            f"((high - low) / step = {k:.6g} is not an integer); set high to {fitted:.10g} "
            f"or choose a step that divides {high - low:.10g}"
        )


class _Param:
    """Shared behaviour: the condition and the dict form."""

    type: ClassVar[str]
    only_for: tuple[str, ...] | None

    def applies_to(self, algorithm: str) -> bool:
        """False when the parameter's condition excludes ``algorithm``."""
        return self.only_for is None or algorithm in self.only_for

    @property
    def discrete(self) -> bool:
        """Whether a grid can enumerate the parameter."""
        return True

    def to_dict(self) -> dict[str, Any]:
        """Canonical dict: ``type`` first, fields at their defaults left out."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value != f.default:  # required fields default to MISSING, so always kept
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class FloatParam(_Param):
    """A float in [low, high], uniform or log-uniform, optionally on a grid of ``step``."""

    low: float
    high: float
    log: bool = False
    step: float | None = None
    only_for: tuple[str, ...] | None = None
    type: ClassVar[str] = "float"

    @property
    def discrete(self) -> bool:
        return self.step is not None

    def checked(self, name: str) -> FloatParam:
        info = hyperparameter(name)
        _check_kind(info, "float")
        if not isinstance(self.log, bool):
            raise SearchSpaceError(f"parameter {name!r}: log={self.log!r} must be true or false")
        low = _core_value(info, self.low, "low")
        high = _core_value(info, self.high, "high")
        _check_range(name, low, high, self.log)
        step = self.step
        if step is not None:
            if self.log:
                raise SearchSpaceError(
                    f"parameter {name!r}: step={step!r} cannot be combined with log=true "
                    f"(Optuna has no log grid); drop step, set log to false, or list the values "
                    f"as a categorical"
                )
            if isinstance(step, bool) or not isinstance(step, int | float):
                raise SearchSpaceError(f"parameter {name!r}: step={step!r} must be a number")
            step = float(step)
            _check_step_fits(name, low, high, step)
        only_for = _check_only_for(name, self.only_for)
        return replace(self, low=low, high=high, step=step, only_for=only_for)


@dataclass(frozen=True)
class IntParam(_Param):
    """An integer in [low, high] with a stride of ``step``, optionally log-uniform."""

    low: int
    high: int
    step: int = 1
    log: bool = False
    only_for: tuple[str, ...] | None = None
    type: ClassVar[str] = "int"

    def checked(self, name: str) -> IntParam:
        info = hyperparameter(name)
        _check_kind(info, "int")
        if not isinstance(self.log, bool):
            raise SearchSpaceError(f"parameter {name!r}: log={self.log!r} must be true or false")
        low = _core_value(info, self.low, "low")
        high = _core_value(info, self.high, "high")
        _check_range(name, low, high, self.log)
        step = self.step
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise SearchSpaceError(
                f"parameter {name!r}: step={step!r} must be a positive integer; use 1 or omit it"
            )
        if self.log and step != 1:
            raise SearchSpaceError(
                f"parameter {name!r}: step={step!r} cannot be combined with log=true (Optuna "
                f"allows only step 1 there); drop step or set log to false"
            )
        _check_step_fits(name, low, high, step)
        only_for = _check_only_for(name, self.only_for)
        return replace(self, low=low, high=high, only_for=only_for)


@dataclass(frozen=True)
class CategoricalParam(_Param):
    """One of an explicit list of values (strings or numbers)."""

    choices: tuple[Any, ...]
    only_for: tuple[str, ...] | None = None
    type: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        if isinstance(self.choices, list):
            object.__setattr__(self, "choices", tuple(self.choices))

    def checked(self, name: str) -> CategoricalParam:
        info = hyperparameter(name)
        if isinstance(self.choices, str | bytes) or not isinstance(self.choices, Sequence):
            raise SearchSpaceError(
                f"parameter {name!r}: choices={self.choices!r} must be a list of values"
            )
        if not self.choices:
            raise SearchSpaceError(
                f"parameter {name!r}: categorical with no choices (choices=[]); list at least "
                f"one value, or use type 'fixed' for a single value"
            )
        choices = tuple(_core_value(info, c, f"choice {c!r}") for c in self.choices)
        duplicates = sorted({repr(c) for c in choices if choices.count(c) > 1})
        if duplicates:
            raise SearchSpaceError(
                f"parameter {name!r}: duplicate choice(s) {', '.join(duplicates)}; list each "
                f"value once"
            )
        only_for = _check_only_for(name, self.only_for)
        return replace(self, choices=choices, only_for=only_for)


@dataclass(frozen=True)
class FixedParam(_Param):
    """A value the space pins: not searched, but merged into every trial's parameters."""

    value: Any
    only_for: tuple[str, ...] | None = None
    type: ClassVar[str] = "fixed"

    def checked(self, name: str) -> FixedParam:
        info = hyperparameter(name)
        value = _core_value(info, self.value, "fixed value")
        only_for = _check_only_for(name, self.only_for)
        return replace(self, value=value, only_for=only_for)


Param = FloatParam | IntParam | CategoricalParam | FixedParam

PARAM_TYPES: dict[str, type[Param]] = {
    cls.type: cls for cls in (FloatParam, IntParam, CategoricalParam, FixedParam)
}
_REQUIRED: dict[str, frozenset[str]] = {
    "float": frozenset({"low", "high"}),
    "int": frozenset({"low", "high"}),
    "categorical": frozenset({"choices"}),
    "fixed": frozenset({"value"}),
}


def param_from_dict(name: str, data: Any) -> Param:
    """Build (and check) one parameter from its dict form, naming any unknown or missing key."""
    if not isinstance(data, Mapping):
        raise SearchSpaceError(
            f"parameter {name!r}: expected a mapping such as "
            f'{{"type": "float", "low": 0.0, "high": 1.0}}, got {data!r}'
        )
    kind = data.get("type")
    if kind not in PARAM_TYPES:
        raise SearchSpaceError(
            f"parameter {name!r}: type={kind!r} is not a parameter type; use one of: "
            f"{', '.join(PARAM_TYPES)}"
        )
    cls = PARAM_TYPES[kind]
    allowed = {f.name for f in fields(cls)}
    unknown = [k for k in data if k != "type" and k not in allowed]
    if unknown:
        raise SearchSpaceError(
            f"parameter {name!r}: unknown key(s) {', '.join(map(repr, unknown))} for type "
            f"{kind!r}; allowed keys: type, {', '.join(sorted(allowed))}"
        )
    missing = sorted(_REQUIRED[kind] - set(data))
    if missing:
        raise SearchSpaceError(
            f"parameter {name!r}: type {kind!r} needs key(s) {', '.join(map(repr, missing))}"
        )
    values = {k: v for k, v in data.items() if k != "type"}
    if isinstance(values.get("only_for"), list):
        values["only_for"] = tuple(values["only_for"])
    if isinstance(values.get("choices"), list):
        values["choices"] = tuple(values["choices"])
    return cls(**values).checked(name)
