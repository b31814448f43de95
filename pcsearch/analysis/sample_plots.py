"""Figures of a generative network's samples: the paper's Fig. 4, drawn from arrays.

``plot_samples_against_data`` is Fig. 4's left panel: the density of 2-d samples as
contours (a Gaussian kernel density estimate on a grid), the samples as dots, and the data
as crosses, one colour each. ``plot_image_grid`` is its right panel: samples as a grid of
images. Both take plain NumPy arrays and write a PNG with the house's helpers
(``pcsearch.analysis.plots``); matplotlib is imported only inside them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pcsearch.analysis.plots import DPI, _figure, _note, _save, _title

GRID = 120
"""Points per axis of the density's grid."""


def _points(name: str, values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape [points, 2] (two features), got {array.shape}; "
            "pass the samples and the data of a 2-d task such as mcpc-iris"
        )
    return array


def density(points: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """A Gaussian kernel density estimate of 2-d ``points`` on the grid ``xs`` x ``ys``
    ([len(ys), len(xs)]), with Scott's bandwidth per feature."""
    n = points.shape[0]
    spread = np.maximum(points.std(axis=0), 1e-6) * n ** (-1.0 / 6.0)
    dx = (xs[None, :] - points[:, 0:1]) / spread[0]  # [n, x]
    dy = (ys[None, :] - points[:, 1:2]) / spread[1]  # [n, y]
    kernel = np.exp(-0.5 * dy**2).T @ np.exp(-0.5 * dx**2)  # [y, x], summed over points
    return kernel / (n * 2 * math.pi * spread[0] * spread[1])


def plot_samples_against_data(
    path: Path | str,
    samples: np.ndarray,
    data: Sequence[tuple[str, np.ndarray]],
    title: str,
    feature_names: tuple[str, str] = ("feature 1", "feature 2"),
) -> Path:
    """Samples' density (contours) and the samples (dots) against each named set of data
    points (crosses), e.g. ``[("training flowers", train), ("held-out flowers", test)]``."""
    drawn = _points("samples", samples)
    sets = [(name, _points(name, values)) for name, values in data]
    finite = drawn[np.all(np.isfinite(drawn), axis=1)]
    figure, axes = _figure()
    everything = np.concatenate([finite, *(values for _, values in sets)])
    low, high = np.percentile(everything, 0.5, axis=0), np.percentile(everything, 99.5, axis=0)
    margin = 0.15 * np.maximum(high - low, 1e-3)
    low, high = low - margin, high + margin
    if finite.shape[0] > 1:
        xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
        surface = density(finite, xs, ys)
        levels = np.linspace(0.05, 1.0, 8) * surface.max()  # the empty background stays white
        axes.contourf(xs, ys, surface, levels=levels, cmap="Blues", alpha=0.8, extend="max")
    axes.plot(
        finite[:, 0], finite[:, 1], ".", ms=2, color="tab:blue", alpha=0.5,
        label=f"samples ({finite.shape[0]})",
    )  # fmt: skip
    colours = ("black", "tab:red", "tab:green", "tab:purple")
    for (name, values), colour in zip(sets, colours * len(sets), strict=False):
        axes.plot(
            values[:, 0], values[:, 1], "x", ms=6, mew=1.5, color=colour,
            label=f"{name} ({values.shape[0]})",
        )  # fmt: skip
    if finite.shape[0] < drawn.shape[0]:
        _note(axes, f"{drawn.shape[0] - finite.shape[0]} non-finite sample(s) not shown")
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    axes.set_xlabel(feature_names[0])
    axes.set_ylabel(feature_names[1])
    axes.legend(loc="best", fontsize=8)
    _title(axes, title)
    return _save(figure, path)


def plot_image_grid(
    path: Path | str,
    images: np.ndarray,
    title: str,
    columns: int = 8,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Path:
    """The first ``columns`` x ``columns`` images of ``images`` ([n, pixels] of a square
    image, or [n, height, width]) as a grey-scale grid, ``value_range`` black to white."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    array = np.asarray(images, dtype=float)
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1]:
            raise ValueError(
                f"images of {array.shape[1]} pixels are not square; pass them as [n, height, width]"
            )
        array = array.reshape(-1, side, side)
    if array.ndim != 3 or array.shape[0] == 0:
        raise ValueError(f"images must have shape [n, height, width], got {array.shape}")
    if columns < 1:
        raise ValueError(f"columns={columns} must be at least 1")
    count = min(array.shape[0], columns * columns)
    rows = math.ceil(count / columns)
    height, width = array.shape[1:]
    canvas = np.ones((rows * (height + 1) + 1, columns * (width + 1) + 1)) * value_range[1]
    for i in range(count):
        r, c = divmod(i, columns)
        top, left = 1 + r * (height + 1), 1 + c * (width + 1)
        canvas[top : top + height, left : left + width] = array[i]
    figure = Figure(figsize=(6.0, 6.0 * rows / columns + 0.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(canvas, cmap="gray", vmin=value_range[0], vmax=value_range[1])
    axes.set_axis_off()
    _title(axes, title)
    return _save(figure, path)
