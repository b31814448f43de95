"""Energy imbalance: first hidden layer's energy over the output layer's (paper Sec. 5.1)."""

from __future__ import annotations

import math

import pytest

from pcsearch.analysis.energy_imbalance import energy_imbalance, subsequent_ratios


def test_first_hidden_over_output():
    assert energy_imbalance([2e-6, 5e-3, 2.0]) == pytest.approx(1e-6)
    assert energy_imbalance([3.0, 1.0, 3.0]) == pytest.approx(1.0)


def test_product_of_subsequent_ratios_is_the_imbalance():
    energies = [1e-7, 4e-4, 0.5, 2.0]
    ratios = subsequent_ratios(energies)
    assert ratios == pytest.approx([1e-7 / 4e-4, 4e-4 / 0.5, 0.5 / 2.0])
    assert math.prod(ratios) == pytest.approx(energy_imbalance(energies))


def test_zero_output_energy_and_bad_input():
    assert energy_imbalance([1.0, 0.0]) == math.inf
    assert math.isnan(energy_imbalance([0.0, 0.0]))
    with pytest.raises(ValueError, match="at least two layers"):
        energy_imbalance([1.0])
    with pytest.raises(ValueError, match="finite and >= 0"):
        energy_imbalance([-1.0, 1.0])
