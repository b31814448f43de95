"""From checked parameters to Optuna: distributions, trial suggestions and grid values.

Kept apart from the schema so that the data model reads without Optuna's vocabulary;
the space's methods call these functions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial

from search_spaces.errors import SearchSpaceError
from search_spaces.parameters import (
    CategoricalParam,
    FixedParam,
    FloatParam,
    IntParam,
    Param,
    steps_in,
)

GRID_DECIMALS = 10
"""Grid floats are rounded to this many decimals so 0.1 + 4 * 0.05 prints as 0.3."""


def _aligned_high(p: FloatParam) -> float:
    """``high`` recomputed in decimal arithmetic, so Optuna's exact divisibility test passes
    (otherwise it would warn and shrink the range by one step)."""
    assert p.step is not None
    n = steps_in(p.low, p.high, p.step)
    return float(Decimal(repr(p.low)) + n * Decimal(repr(p.step)))


def to_distribution(name: str, p: Param) -> BaseDistribution:
    """The Optuna distribution of a searched parameter (fixed ones have none)."""
    if isinstance(p, FloatParam):
        if p.step is None:
            return FloatDistribution(p.low, p.high, log=p.log)
        return FloatDistribution(p.low, _aligned_high(p), step=p.step)
    if isinstance(p, IntParam):
        return IntDistribution(p.low, p.high, log=p.log, step=p.step)
    if isinstance(p, CategoricalParam):
        return CategoricalDistribution(p.choices)
    raise SearchSpaceError(f"parameter {name!r} is fixed to {p.value!r}; it has no distribution")


def suggest_value(trial: BaseTrial, name: str, p: Param) -> Any:
    """Ask ``trial`` for one value of ``p`` (a fixed parameter returns its value)."""
    if isinstance(p, FixedParam):
        return p.value
    if isinstance(p, FloatParam):
        if p.step is None:
            return trial.suggest_float(name, p.low, p.high, log=p.log)
        # Not rounded: the value must equal what Optuna records in trial.params.
        return trial.suggest_float(name, p.low, _aligned_high(p), step=p.step)
    if isinstance(p, IntParam):
        return trial.suggest_int(name, p.low, p.high, step=p.step, log=p.log)
    return trial.suggest_categorical(name, p.choices)


def grid_values(name: str, p: Param) -> list[Any]:
    """Every value a grid visits for ``p``; continuous floats cannot be enumerated."""
    if isinstance(p, FixedParam):
        return [p.value]
    if isinstance(p, CategoricalParam):
        return list(p.choices)
    if isinstance(p, IntParam):
        return list(range(p.low, p.high + 1, p.step))
    if p.step is None:
        raise SearchSpaceError(
            f"parameter {name!r} is a continuous float in [{p.low!r}, {p.high!r}] with no step, "
            f"so a grid cannot enumerate it; give it a step, make it categorical, or use a "
            f"'bayesian' space"
        )
    n = steps_in(p.low, p.high, p.step)
    return [min(round(p.low + k * p.step, GRID_DECIMALS), p.high) for k in range(n + 1)]
