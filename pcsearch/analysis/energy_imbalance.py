"""Energy imbalance between layers, as the paper's Section 5.1 ("Energy propagation") uses it.

The paper analyses "the ratio of the energies of subsequent layers as a function of the
state learning rates γ" (Fig. 6(c,d)) and summarises it as: "the energy in the first hidden
layer is similar to that of the last layer for γ=1, and about 6 orders of magnitude lower
for γ=0.01". The number plotted against γ here is therefore that first-to-last ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _checked(energies_per_layer: Sequence[float]) -> list[float]:
    energies = [float(e) for e in energies_per_layer]
    if len(energies) < 2:
        raise ValueError(
            f"energy imbalance needs at least two layers (a hidden layer and the output), "
            f"got {len(energies)}"
        )
    bad = [e for e in energies if not math.isfinite(e) or e < 0]
    if bad:
        raise ValueError(f"layer energies must be finite and >= 0, got {bad}")
    return energies


def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        return math.nan if numerator == 0 else math.inf
    return numerator / denominator


def energy_imbalance(energies_per_layer: Sequence[float]) -> float:
    """E_1 / E_L: energy of the first hidden layer over the energy of the output layer.

    ``energies_per_layer`` is ordered as pcsearch records it: hidden layers 1..L-1, then
    the output layer last (``pcsearch.energy.layer_energies``). 1 means the energy is
    balanced (the paper's γ=1); 1e-6 means the first hidden layer holds a millionth of
    the output layer's energy (the paper's γ=0.01). It equals the product of the ratios of
    subsequent layers, E_l / E_{l+1}, which ``subsequent_ratios`` returns one by one.

    Zero output energy gives inf (nan when the first layer's energy is zero too).
    """
    energies = _checked(energies_per_layer)
    return _ratio(energies[0], energies[-1])


def subsequent_ratios(energies_per_layer: Sequence[float]) -> list[float]:
    """E_l / E_{l+1} for every pair of neighbouring layers, first hidden layer first."""
    energies = _checked(energies_per_layer)
    return [_ratio(low, high) for low, high in zip(energies, energies[1:], strict=False)]
