"""How each metric is measured and how it is shown.

pcsearch measures accuracy as a fraction in [0, 1] and MSE as a plain number; the paper
prints accuracy in percent and MSE scaled by a power of ten (x1e-3, x1e-4). Keeping the
conversions in one place means tables, comparisons and plots never disagree on a factor
of 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

ACCURACY_METRICS = ("accuracy", "top5_accuracy")

UNIT_SCALES: dict[str, float] = {
    "percent": 1e-2,
    "fraction": 1.0,
    "plain": 1.0,
}
"""Measured value = shown value x scale. ``x1e-N`` units are parsed by ``unit_scale``."""


def is_accuracy(metric: str) -> bool:
    """True for metrics that pcsearch measures as a fraction and people read in percent."""
    return metric in ACCURACY_METRICS


def is_mse(metric: str) -> bool:
    """True for mean squared errors ("mse", and others such as a memory's "cue_mse"), which
    the paper shows scaled by a power of ten."""
    return metric == "mse" or metric.endswith("_mse")


def unit_scale(unit: str) -> float:
    """The factor that turns a value shown in ``unit`` into pcsearch's measured unit.

    ``percent`` -> 0.01, ``x1e-3`` -> 0.001, ``plain`` / ``fraction`` -> 1.
    """
    if unit in UNIT_SCALES:
        return UNIT_SCALES[unit]
    if unit.startswith("x1e"):
        try:
            return 10.0 ** int(unit[3:])
        except ValueError:
            pass
    raise ValueError(
        f"unknown unit {unit!r}; use one of {', '.join(UNIT_SCALES)} or x1e<N> (e.g. x1e-3)"
    )


def scaled_unit(exponent: int) -> str:
    """The unit name for values shown multiplied by 10^-exponent (``x1e-3`` for -3)."""
    return "plain" if exponent == 0 else f"x1e{exponent}"


def unit_label(unit: str) -> str:
    """Human text for a unit, as it goes into a table header: ``%``, ``×10^-3``."""
    if unit == "percent":
        return "%"
    if unit in ("plain", "fraction"):
        return ""
    return f"×10^{unit[3:]}" if unit.startswith("x1e") else unit


def display_exponent(values: Iterable[float]) -> int:
    """The power of ten to show values in, as the paper does for MSE (x1e-3, x1e-4).

    It puts the smallest |value| in [1, 10), so two decimals keep two significant digits,
    unless that pushes the largest past 1000; then the largest goes in [1, 10) instead.
    Non-finite and zero values are ignored; with none left the exponent is 0.
    """
    magnitudes = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if not magnitudes:
        return 0
    low = math.floor(math.log10(min(magnitudes)))
    high = math.floor(math.log10(max(magnitudes)))
    return low if high - low < 3 else high


def display_unit(metric: str, measured_values: Iterable[float] = ()) -> str:
    """The unit a metric is shown in: percent for accuracies, a power of ten for MSE."""
    if is_accuracy(metric):
        return "percent"
    if is_mse(metric):
        exponent = display_exponent(measured_values)
        # 0.1 .. 999 read fine with two decimals; smaller or larger values get a power of ten.
        return "plain" if -1 <= exponent <= 2 else scaled_unit(exponent)
    return "plain"


def metric_label(metric: str) -> str:
    """Axis / header label of a metric with its unit, for measured values shown as-is."""
    return {
        "accuracy": "test accuracy (%)",
        "top5_accuracy": "test top-5 accuracy (%)",
        "mse": "test MSE",
    }.get(metric, metric)


def to_display(value: float, metric: str) -> float:
    """A measured value as plots show it: accuracies in percent, everything else as-is."""
    return value * 100.0 if is_accuracy(metric) else value
