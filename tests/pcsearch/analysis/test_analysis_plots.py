"""The PNG writers produce real, readable images, whatever the data's rough edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pcsearch.analysis import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0.01  # something was drawn, not a blank canvas


def test_optimisation_history(tmp_path):
    values = [(i, 0.5 + 0.4 * math.sin(i)) for i in range(30)] + [(30, math.nan)]
    out = plots.plot_optimisation_history(
        tmp_path / "h.png", values, "maximize", "history", "test accuracy"
    )
    assert out == tmp_path / "h.png"
    assert_png(out)


def test_history_rejects_a_bad_direction(tmp_path):
    with pytest.raises(ValueError, match="direction"):
        plots.plot_optimisation_history(tmp_path / "h.png", [], "up", "t", "y")  # type: ignore[arg-type]


def test_history_without_values_still_draws(tmp_path):
    assert_png(plots.plot_optimisation_history(tmp_path / "e.png", [], "minimize", "t", "MSE"))


def test_metric_against_state_lr_drops_non_positive_x(tmp_path):
    points = [(10**-k, 0.9 - 0.1 * k) for k in range(4)] + [(0.0, 0.5), (-1.0, 0.4)]
    assert_png(plots.plot_metric_against(tmp_path / "m.png", points, "γ", "acc", "t"))
    assert_png(plots.plot_metric_against(tmp_path / "lin.png", points, "x", "y", "t", log_x=False))


def test_energy_per_step_with_zeros(tmp_path):
    energies = np.array([[0.0, 0.0, 1.0], [1e-6, 1e-3, 0.5], [2e-6, 2e-3, 0.3]])
    assert_png(plots.plot_energy_per_step(tmp_path / "e.png", energies, "energy"))
    assert plots.layer_names(3) == ["layer 1", "layer 2", "output"]


def test_energy_per_step_wants_two_dimensions(tmp_path):
    with pytest.raises(ValueError, match=r"\[steps, layers\]"):
        plots.plot_energy_per_step(tmp_path / "e.png", [1.0, 2.0], "energy")


def test_energy_imbalance_several_series(tmp_path):
    grid = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0]
    series = {
        "FashionMNIST": [(g, g**3) for g in grid for _ in range(2)],
        "two moons": [(g, g**2) for g in grid] + [(0.1, 0.0)],
    }
    out = tmp_path / "sub" / "i.png"  # a missing folder is created
    assert_png(plots.plot_energy_imbalance(out, series, "imbalance"))
