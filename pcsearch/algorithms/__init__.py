"""Training algorithms, chosen by value. Names are parsed here, once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pcsearch.algorithms.backprop import Backprop
from pcsearch.algorithms.base import Algorithm, StepInput
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


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Algorithm]] = {
    "pc-se": lambda p: _pc(p, "se"),
    "pc-ce": lambda p: _pc(p, "ce"),
    "ipc": lambda p: _pc(p, "se", incremental=True),
    "pn": lambda p: _pc(p, "se", nudging=Nudging(sign=1)),
    "nn": lambda p: _pc(p, "se", nudging=Nudging(sign=-1)),
    "cn": lambda p: _pc(p, "se", nudging=Nudging(sign=0)),
    "bp-se": lambda p: Backprop(output_loss=OUTPUT_LOSSES["se"]),
    "bp-ce": lambda p: Backprop(output_loss=OUTPUT_LOSSES["ce"]),
}


def make_algorithm(name: str, params: Mapping[str, Any]) -> Algorithm:
    """The algorithm object for a name from the vocabulary and resolved hyperparameters."""
    algorithm_info(name)
    return _BUILDERS[name](params)


__all__ = ["Algorithm", "Backprop", "Nudging", "PredictiveCoding", "StepInput", "make_algorithm"]
