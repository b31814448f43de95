"""PNG figures of a search, drawn like the paper's figures so they can be compared by eye.

matplotlib is imported inside each function, so ``import pcsearch.analysis`` stays light.
Figures are built on an explicit Agg canvas (``matplotlib.figure.Figure``), never through
pyplot: nothing is registered globally, the caller's backend is left alone, and each
figure is cleared after saving and freed with its last reference.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pcsearch.analysis.summary import DIRECTIONS, Direction

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 120
SIZE = (7.0, 4.5)


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.grid(True, which="major", alpha=0.4)
    return figure, axes


def _save(figure: Figure, path: Path | str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=DPI, format="png")
    figure.clear()
    return out


def _title(axes: Axes, title: str) -> None:
    """Long titles (study names) wrap instead of running off the figure."""
    axes.set_title(textwrap.fill(title, width=64))


def _note(axes: Axes, text: str) -> None:
    """A small remark in the lower-left corner (what was left out of the plot, and why)."""
    axes.text(0.01, 0.01, text, transform=axes.transAxes, fontsize=8, color="0.35", va="bottom")


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center")


def plot_optimisation_history(
    path: Path | str,
    values: Sequence[tuple[int, float]],
    direction: Direction,
    title: str,
    metric_label: str,
) -> Path:
    """Each trial's value (dots) and the best value so far (step line), by trial number."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'maximize' or 'minimize', not {direction!r}")
    figure, axes = _figure()
    finite = sorted((int(n), float(v)) for n, v in values if v is not None and math.isfinite(v))
    if finite:
        numbers = np.array([n for n, _ in finite])
        scores = np.array([v for _, v in finite])
        best = (np.maximum if direction == "maximize" else np.minimum).accumulate(scores)
        axes.plot(numbers, scores, "o", ms=4, alpha=0.6, label="trial value")
        axes.step(numbers, best, where="post", lw=2, label=f"best so far ({direction})")
        axes.legend(loc="best")
    else:
        _empty(axes, "no trial with a finite value")
    if len(finite) < len(values):
        _note(axes, f"{len(values) - len(finite)} trial(s) without a finite value not shown")
    axes.set_xlabel("trial number")
    axes.set_ylabel(metric_label)
    _title(axes, title)
    return _save(figure, path)


def plot_metric_against(
    path: Path | str,
    points: Sequence[tuple[float, float]],
    x_label: str,
    y_label: str,
    title: str,
    log_x: bool = True,
) -> Path:
    """One dot per trial of a metric against a hyperparameter (the paper's Fig. 6c)."""
    figure, axes = _figure()
    finite = [
        (float(x), float(y))
        for x, y in points
        if math.isfinite(x) and math.isfinite(y) and (x > 0 or not log_x)
    ]
    if finite:
        xs, ys = zip(*finite, strict=True)
        axes.plot(xs, ys, "o", ms=5, alpha=0.7)
    else:
        _empty(axes, "no points to show")
    if len(finite) < len(points):
        why = "non-finite or <= 0 on the log axis" if log_x else "non-finite"
        _note(axes, f"{len(points) - len(finite)} point(s) not shown ({why})")
    if log_x:
        axes.set_xscale("log")
        axes.grid(True, which="minor", alpha=0.15)
    axes.set_xlabel(f"{x_label} (log scale)" if log_x else x_label)
    axes.set_ylabel(y_label)
    _title(axes, title)
    return _save(figure, path)


def layer_names(layers: int) -> list[str]:
    """ "layer 1", ..., "layer L-1", "output": pcsearch records hidden layers, then output."""
    return [f"layer {i + 1}" for i in range(layers - 1)] + ["output"]


def _floor(values: np.ndarray) -> float:
    """A positive value to draw zeros and negatives at on a log axis: a tenth of the
    smallest positive value, so the axis does not stretch to 1e-300."""
    positive = values[np.isfinite(values) & (values > 0)]
    return float(positive.min()) / 10.0 if positive.size else 1e-12


def plot_energy_per_step(path: Path | str, energies: Any, title: str) -> Path:
    """Energy of each layer at each inference step, log y (the paper's Fig. 6b, 14a, 15a).

    ``energies`` has shape [steps, layers]; step 0 is before inference, the last column is
    the output layer. Values <= 0 are drawn at a tiny positive floor, and the plot says so.
    """
    array = np.asarray(energies, dtype=float)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"energies must have shape [steps, layers], got {array.shape}")
    figure, axes = _figure()
    floor = _floor(array)
    clipped = np.clip(array, floor, None)
    steps = np.arange(array.shape[0])
    marker = "o" if array.shape[0] <= 30 else None
    for column, name in enumerate(layer_names(array.shape[1])):
        axes.plot(steps, clipped[:, column], marker=marker, ms=3, label=name)
    if np.any(array <= 0):
        _note(axes, f"energies <= 0 drawn at {floor:.1e}")
    axes.set_yscale("log")
    axes.set_xlabel("inference step (0 = before inference)")
    axes.set_ylabel("energy per layer (log scale)")
    _title(axes, title)
    if array.shape[1] > 1:
        axes.legend(loc="best")
    return _save(figure, path)


def plot_energy_imbalance(
    path: Path | str,
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
) -> Path:
    """Energy imbalance E_1 / E_L against the state learning rate, log-log (Fig. 6d).

    Each series (a dataset, a T, ...) is drawn as its trials (dots) and, where learning
    rates repeat (a grid, several seeds), a line through the median at each one. The
    dotted line at 1 is a balanced network.
    """
    figure, axes = _figure()
    dropped = 0
    drawn = 0
    for name, points in series.items():
        kept = [
            (float(x), float(y))
            for x, y in points
            if math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0
        ]
        dropped += len(points) - len(kept)
        if not kept:
            continue
        drawn += 1
        xs = np.array([x for x, _ in kept])
        ys = np.array([y for _, y in kept])
        grid = np.unique(xs)
        if len(grid) > len(xs) / 2:  # mostly distinct rates (a Bayesian search): dots only
            axes.plot(xs, ys, "o", ms=5, alpha=0.7, label=name)
            continue
        (line,) = axes.plot([], [], "-", lw=2, label=f"{name} (median)")
        axes.plot(xs, ys, "o", ms=4, alpha=0.35, color=line.get_color())
        medians = [float(np.median(ys[xs == x])) for x in grid]
        line.set_data(grid, medians)
    if drawn:
        axes.axhline(1.0, ls=":", color="0.4")
        axes.text(
            0.99,
            1.0,
            "balanced",
            transform=axes.get_yaxis_transform(),
            ha="right",
            va="bottom",
            fontsize=8,
            color="0.4",
        )
        axes.relim()
        axes.autoscale_view()
    else:
        _empty(axes, "no points to show")
    if dropped:
        _note(axes, f"{dropped} point(s) not shown (non-finite or <= 0 on a log axis)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("state learning rate γ (log scale)")
    axes.set_ylabel("energy imbalance E₁ / E_L\n(first hidden layer / output, log scale)")
    _title(axes, title)
    if drawn > 1:
        axes.legend(loc="best")
    return _save(figure, path)
