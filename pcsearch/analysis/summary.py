"""Mean and spread of a configuration rerun on several seeds.

The paper reran each best configuration on several seeds and reported mean ± std, in one
place of the best 5 of 7 seeds; ``keep_best`` reproduces that convention, so a table can
say exactly which values went into each cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["maximize", "minimize"]
DIRECTIONS: tuple[Direction, ...] = ("maximize", "minimize")


@dataclass(frozen=True)
class Summary:
    """mean ± std over ``n`` of ``total`` seeds.

    ``std`` is the population standard deviation (numpy's default, ddof=0): the spread of
    the values used, not an estimate of a wider population, so one value gives std 0.
    ``failed`` seeds (None or non-finite) count in ``total`` and never in the statistics.
    """

    mean: float
    std: float
    n: int
    total: int
    keep_best: int | None = None
    failed: int = 0

    def convention(self) -> str:
        """Which values the cell is made of: "the best 5 of 7 seeds", "all 5 seeds"."""
        finite = self.total - self.failed
        failed = f" ({self.failed} failed)" if self.failed else ""
        if self.keep_best is not None and finite > self.n:
            return f"the best {self.n} of {self.total} seeds{failed}"
        if self.failed:
            return f"the {self.n} finished of {self.total} seeds{failed}"
        return "1 seed" if self.total == 1 else f"all {self.total} seeds"


def _finite(values: Sequence[float | None]) -> list[float]:
    out = []
    for value in values:
        if value is None:
            continue
        number = float(value)
        if math.isfinite(number):
            out.append(number)
    return out


def summarise(
    values: Sequence[float | None],
    direction: Direction,
    keep_best: int | None = None,
) -> Summary:
    """Summarise one value per seed; None or non-finite values are seeds that failed.

    ``keep_best=k`` keeps the k best finite values (highest for "maximize", lowest for
    "minimize"); with fewer than k finite values all of them are kept and ``n`` says so.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'maximize' or 'minimize', not {direction!r}")
    if keep_best is not None and keep_best < 1:
        raise ValueError(f"keep_best must be a positive number of seeds, not {keep_best}")
    finite = _finite(values)
    total = len(values)
    failed = total - len(finite)
    if not finite:
        raise ValueError(
            f"no finite value to summarise: all {total} seed(s) failed (None, NaN or inf)"
            if total
            else "no values to summarise: no seed was given"
        )
    used = sorted(finite, reverse=direction == "maximize")
    if keep_best is not None:
        used = used[:keep_best]
    array = np.asarray(used, dtype=float)
    return Summary(
        mean=float(array.mean()),
        std=float(array.std()),  # ddof=0: population std, see Summary
        n=len(used),
        total=total,
        keep_best=keep_best,
        failed=failed,
    )


Setting = tuple[tuple[str, str | int | float], ...]
"""An experimental condition within a task, as sorted (name, value) pairs."""


@dataclass(frozen=True)
class ResultCell:
    """One measured cell of a results table, in pcsearch's units.

    Accuracies ("accuracy", "top5_accuracy") are fractions in [0, 1]; "mse" is plain.
    ``seconds`` is the total wall time of the seeds' runs. ``setting`` names an
    experimental condition within a task (e.g. the noise, width and number of images of
    an associative-memory run), as (key, value) pairs, so it can be matched to the paper.
    """

    task: str
    algorithm: str
    metric: str
    direction: Direction
    summary: Summary
    seconds: float | None = None
    study: str | None = None
    setting: Setting = ()


def setting_text(setting: Setting) -> str:
    """``corruption=noise, hidden_width=512`` (sorted by key), or "" for no setting."""
    return ", ".join(f"{key}={value}" for key, value in sorted(setting))
