"""Training algorithms, chosen by value. Names are parsed here, once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pcsearch.algorithms.backprop import Backprop
from pcsearch.algorithms.base import Algorithm, StepInput
from pcsearch.algorithms.clamping import (
    AUTOENCODER,
    CONDITIONAL,
    DISCRIMINATIVE,
    GENERATIVE,
    Clamping,
)
from pcsearch.algorithms.monte_carlo import MonteCarloPC
from pcsearch.algorithms.predictive_coding import Nudging, PredictiveCoding
from pcsearch.catalogue import algorithm_info
from pcsearch.energy import OUTPUT_LOSSES


def _pc(p: Mapping[str, Any], loss: str, **extra: Any) -> PredictiveCoding:
    return PredictiveCoding(
        output_loss=OUTPUT_LOSSES[loss],
        T=int(p["T"]),
        init=p["init"],
        state_optimizer=p["state_optimizer"],
        **extra,
    )


def _mcpc(p: Mapping[str, Any], clamping: Clamping) -> MonteCarloPC:
    """Squared error at the data layer, a standard normal prior on a free h_0."""
    return MonteCarloPC(
        output_loss=OUTPUT_LOSSES["se"],
        T=int(p["T"]),
        init=p["init"],
        clamping=clamping,
        bottom_precision=1.0,
        T_sample=int(p["T_sample"]),
    )


Builder = Callable[[Mapping[str, Any], Clamping], Algorithm]

_BUILDERS: dict[str, Builder] = {
    "pc-se": lambda p, c: _pc(p, "se", clamping=c),
    "pc-ce": lambda p, c: _pc(p, "ce", clamping=c),
    "ipc": lambda p, c: _pc(p, "se", incremental=True, clamping=c),
    "pn": lambda p, c: _pc(p, "se", nudging=Nudging(sign=1), clamping=c),
    "nn": lambda p, c: _pc(p, "se", nudging=Nudging(sign=-1), clamping=c),
    "cn": lambda p, c: _pc(p, "se", nudging=Nudging(sign=0), clamping=c),
    "mcpc": _mcpc,
    "bp-se": lambda p, c: Backprop(output_loss=OUTPUT_LOSSES["se"], clamping=c),
    "bp-ce": lambda p, c: Backprop(output_loss=OUTPUT_LOSSES["ce"], clamping=c),
}


def make_algorithm(
    name: str, params: Mapping[str, Any], clamping: Clamping = DISCRIMINATIVE
) -> Algorithm:
    """The algorithm object for a name from the vocabulary, resolved hyperparameters and
    what the task clamps."""
    algorithm_info(name)
    return _BUILDERS[name](params, clamping)


__all__ = [
    "AUTOENCODER", "CONDITIONAL", "DISCRIMINATIVE", "GENERATIVE", "Algorithm", "Backprop",
    "Clamping", "MonteCarloPC", "Nudging", "PredictiveCoding", "StepInput", "make_algorithm",
]  # fmt: skip
