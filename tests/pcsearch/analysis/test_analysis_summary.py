"""summarise: mean and population std of the seeds used, best-k by direction, failed seeds."""

from __future__ import annotations

import math
import statistics

import pytest

from pcsearch.analysis.summary import ResultCell, Summary, summarise

SEEDS = [0.91, 0.95, 0.93, 0.97, 0.92, 0.96, 0.94]


def test_all_values_give_mean_and_population_std():
    s = summarise(SEEDS, "maximize")
    assert s.mean == pytest.approx(statistics.fmean(SEEDS))
    assert s.std == pytest.approx(statistics.pstdev(SEEDS))
    assert (s.n, s.total, s.keep_best, s.failed) == (7, 7, None, 0)
    assert s.convention() == "all 7 seeds"


def test_keep_best_maximize_keeps_the_highest():
    s = summarise(SEEDS, "maximize", keep_best=5)
    best = [0.97, 0.96, 0.95, 0.94, 0.93]
    assert s.mean == pytest.approx(statistics.fmean(best))
    assert s.std == pytest.approx(statistics.pstdev(best))
    assert (s.n, s.total, s.keep_best) == (5, 7, 5)
    assert s.convention() == "the best 5 of 7 seeds"


def test_keep_best_minimize_keeps_the_lowest():
    errors = [5.1e-3, 4.9e-3, 6.3e-3, 5.0e-3, 7.7e-3]
    s = summarise(errors, "minimize", keep_best=3)
    best = [4.9e-3, 5.0e-3, 5.1e-3]
    assert s.mean == pytest.approx(statistics.fmean(best))
    assert s.std == pytest.approx(statistics.pstdev(best))
    assert s.n == 3


def test_failed_seeds_count_in_total_and_stay_out_of_the_statistics():
    values = [0.9, None, math.nan, 0.8, math.inf, 0.7]
    s = summarise(values, "maximize", keep_best=2)
    assert s.mean == pytest.approx(0.85)
    assert s.std == pytest.approx(statistics.pstdev([0.9, 0.8]))
    assert (s.n, s.total, s.failed) == (2, 6, 3)
    assert s.convention() == "the best 2 of 6 seeds (3 failed)"


def test_keep_best_larger_than_the_finished_seeds_keeps_them_all():
    s = summarise([0.5, None, 0.7], "maximize", keep_best=5)
    assert (s.n, s.total, s.failed) == (2, 3, 1)
    assert s.mean == pytest.approx(0.6)
    assert s.convention() == "the 2 finished of 3 seeds (1 failed)"


def test_one_value_has_zero_std():
    s = summarise([0.42], "maximize")
    assert (s.mean, s.std, s.n) == (0.42, 0.0, 1)


@pytest.mark.parametrize("values", [[], [None], [math.nan, None, -math.inf]])
def test_nothing_finite_is_a_clear_error(values):
    with pytest.raises(ValueError, match="no (finite value|values)"):
        summarise(values, "maximize")


def test_bad_direction_and_keep_best_are_errors():
    with pytest.raises(ValueError, match="direction"):
        summarise([1.0], "max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keep_best"):
        summarise([1.0], "maximize", keep_best=0)


def test_cells_are_frozen():
    cell = ResultCell("mlp-mnist", "pc-se", "accuracy", "maximize", Summary(0.9, 0.01, 5, 5))
    with pytest.raises(AttributeError):
        cell.task = "other"  # type: ignore[misc]
