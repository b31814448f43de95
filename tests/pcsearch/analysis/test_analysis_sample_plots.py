"""Fig. 4's two panels from arrays: samples against 2-d data, and samples as an image grid."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

from pcsearch.analysis.sample_plots import density, plot_image_grid, plot_samples_against_data
from tests.pcsearch.analysis.test_analysis_plots import assert_png


def test_samples_against_data_writes_a_png_with_both_colours(tmp_path):
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(500, 2))
    data = rng.normal(loc=(1.0, -1.0), size=(50, 2))

    def colours(name: str, sets) -> tuple[int, int]:
        out = plot_samples_against_data(tmp_path / "f" / name, samples, sets, "iris", ("a", "b"))
        assert out == tmp_path / "f" / name
        assert_png(out)
        pixels = matplotlib.image.imread(out)[..., :3]
        blue = (pixels[..., 2] > pixels[..., 0] + 0.2).sum()  # the samples' dots, contours
        black = (pixels.max(axis=-1) < 0.15).sum()  # the data's crosses, and the text
        return int(blue), int(black)

    blue, black = colours("with.png", [("data", data)])
    _, text_only = colours("without.png", [])
    assert blue > 10_000  # the samples' density covers much of the axes
    assert black > text_only + 1000  # 50 black crosses


def test_non_finite_samples_are_left_out_not_fatal(tmp_path):
    samples = np.array([[0.0, 0.0], [1.0, 1.0], [np.nan, 0.0], [0.5, 0.2]])
    assert_png(plot_samples_against_data(tmp_path / "n.png", samples, [], "few"))


@pytest.mark.parametrize("shape", [(10, 3), (10,), (0, 2)])
def test_samples_against_data_wants_points_of_two_features(tmp_path, shape):
    with pytest.raises(ValueError, match=r"samples must have shape \[points, 2\]"):
        plot_samples_against_data(tmp_path / "s.png", np.zeros(shape), [], "t")
    assert not (tmp_path / "s.png").exists()


def test_the_density_integrates_to_one_and_peaks_at_the_points():
    points = np.random.default_rng(1).normal(size=(400, 2)) * (1.0, 0.5) + (2.0, -1.0)
    xs, ys = np.linspace(-3, 7, 201), np.linspace(-5, 3, 161)
    surface = density(points, xs, ys)
    assert surface.shape == (161, 201)
    cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
    assert surface.sum() * cell == pytest.approx(1.0, abs=0.01)
    row, column = np.unravel_index(surface.argmax(), surface.shape)
    assert abs(xs[column] - 2.0) < 0.4 and abs(ys[row] + 1.0) < 0.3


def test_image_grid_draws_the_images_in_their_value_range(tmp_path):
    images = -np.ones((100, 784))  # black digits ...
    images[0] = 1.0  # ... but the first one white
    out = plot_image_grid(tmp_path / "g.png", images, "MCPC samples; fid_ours 1.0")
    assert_png(out)
    grey = matplotlib.image.imread(out)[..., :3].mean(axis=-1)
    dark = (grey < 0.1).mean()
    assert 0.3 < dark < 0.95  # 63 black cells of the 8 x 8 grid fill most of the figure


def test_image_grid_needs_square_images(tmp_path):
    with pytest.raises(ValueError, match="not square"):
        plot_image_grid(tmp_path / "g.png", np.zeros((4, 10)), "t")
