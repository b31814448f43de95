"""A new study's first trial runs the paper's best values, where the paper gives them.

The trial is queued (WAITING) when the study is created, so the first claim takes it
(:mod:`workers.claim` takes queued trials first), and it is marked ``warm_start: paper``.
Only the parameters the study's space searches are fixed; the rest of the run resolves
as every trial's does. A paper value the space does not allow (outside its range, off its
step, not among its choices) is not clipped: that parameter is left to the sampler and a
log line says so, since a clipped value is neither the paper's configuration nor a sample.

No warm start for rerun studies (every trial is already fixed), for grid studies (the
grid visits every point, the paper's among them if the grid has it), or when the paper
gives no value for any parameter the space searches (e.g. the bundled small tasks).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from pcsearch.params import PAPER_BEST
from store import attrs
from store.config import StudyConfig

log = logging.getLogger("pcsearch.worker")
PAPER = "paper"
"""The value of the trial attribute ``warm_start`` on a trial of the paper's values."""
_STEP_TOLERANCE = 1e-8


def fits(distribution: BaseDistribution, value: Any) -> tuple[bool, Any]:
    """Whether the space's distribution allows ``value``, and the value in the type the
    distribution suggests (an int where an int is asked, a float where a float is)."""
    if isinstance(distribution, CategoricalDistribution):
        return value in distribution.choices, value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False, value
    low, high, step = distribution.low, distribution.high, distribution.step
    if isinstance(distribution, IntDistribution):
        if float(value) != int(value):
            return False, value
        value = int(value)
    elif isinstance(distribution, FloatDistribution):
        value = float(value)
    else:
        return False, value
    if not low <= value <= high:
        return False, value
    if step is not None:
        k = (value - low) / step
        if abs(k - round(k)) > _STEP_TOLERANCE * max(1.0, abs(k)):
            return False, value
    return True, value


def paper_values(config: StudyConfig, study_name: str = "") -> dict[str, Any]:
    """The paper's best values of the parameters the study's space searches, those the
    space allows; empty when there is nothing to warm-start from."""
    best = PAPER_BEST.get((config.task, config.algorithm), {})
    if not best:
        return {}
    chosen: dict[str, Any] = {}
    searched = config.search_space().distributions(config.algorithm)
    for name, distribution in searched.items():
        if name not in best:
            continue
        ok, value = fits(distribution, best[name])
        if ok:
            chosen[name] = value
        else:
            log.warning(
                "study %s: warm start leaves %s to the sampler: the paper's %s=%r is not in "
                "the space's %s",
                study_name or "(new)",
                name,
                name,
                best[name],
                distribution,
            )
    return chosen


def enqueue(study: optuna.Study, config: StudyConfig) -> dict[str, Any] | None:
    """Queue the study's warm-start trial; the parameters it fixes, or None if none."""
    if not config.warm_start or config.seeds or config.sampler == "grid":
        return None
    values = paper_values(config, study.study_name)
    if not values:
        return None
    study.enqueue_trial(values, user_attrs={attrs.WARM_START: PAPER})
    return values
