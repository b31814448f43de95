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
from pcsearch.catalogue import ALGORITHMS, algorithm_info
from pcsearch.catalogue.registry import check_registry
from pcsearch.energy import OUTPUT_LOSSES, OutputLoss

Builder = Callable[[Mapping[str, Any], Clamping, OutputLoss], Algorithm]
"""(resolved hyperparameters, the task's clamping, the catalogue's output loss) -> algorithm."""


def _pc(p: Mapping[str, Any], c: Clamping, loss: OutputLoss, **extra: Any) -> PredictiveCoding:
    return PredictiveCoding(
        output_loss=loss,
        T=int(p["T"]),
        init=p["init"],
        state_optimizer=p["state_optimizer"],
        clamping=c,
        state_energy=_state_energy(p),
        **extra,
    )


def _state_energy(p: Mapping[str, Any]) -> str:
    """The task's ``state_energy`` (``TaskInfo.state_energy``): set only where it is not
    ``sum``, so that every other run's parameters stay as they were."""
    return p.get("state_energy", "sum")


def _nudging(sign: int) -> Builder:
    """``beta_limit`` where the hyperparameters name it, else the default (plain-pc)."""

    def build(p: Mapping[str, Any], c: Clamping, loss: OutputLoss) -> PredictiveCoding:
        limit = {"beta_limit": p["beta_limit"]} if "beta_limit" in p else {}
        return _pc(p, c, loss, nudging=Nudging(sign=sign, **limit))

    return build


def _mcpc(p: Mapping[str, Any], clamping: Clamping, loss: OutputLoss) -> MonteCarloPC:
    """The catalogue's squared error at the data layer, a standard normal prior on a free h_0."""
    return MonteCarloPC(
        output_loss=loss,
        T=int(p["T"]),
        init=p["init"],
        clamping=clamping,
        bottom_precision=1.0,
        T_sample=int(p["T_sample"]),
        state_energy=_state_energy(p),
    )


def _backprop(p: Mapping[str, Any], clamping: Clamping, loss: OutputLoss) -> Backprop:
    return Backprop(output_loss=loss, clamping=clamping)


BUILDERS: dict[str, Builder] = {
    "pc-se": _pc,
    "pc-ce": _pc,
    "ipc": lambda p, c, loss: _pc(p, c, loss, incremental=True),
    "pn": _nudging(1),
    "nn": _nudging(-1),
    "cn": _nudging(0),
    "mcpc": _mcpc,
    "bp-se": _backprop,
    "bp-ce": _backprop,
}
"""One builder per implemented algorithm of ``pcsearch.catalogue.ALGORITHMS``; the output
loss comes from there (``AlgorithmInfo.output_loss``)."""

check_registry(
    "algorithm",
    BUILDERS,
    [n for n, a in ALGORITHMS.items() if a.implemented],
    registry_at="pcsearch.algorithms.BUILDERS",
    catalogue_at="pcsearch/catalogue/algorithms.py (implemented ones)",
)


def make_algorithm(
    name: str, params: Mapping[str, Any], clamping: Clamping = DISCRIMINATIVE
) -> Algorithm:
    """The algorithm object for a name from the vocabulary, resolved hyperparameters and
    what the task clamps."""
    info = algorithm_info(name)
    return BUILDERS[name](params, clamping, OUTPUT_LOSSES[info.output_loss])


__all__ = [
    "AUTOENCODER", "CONDITIONAL", "DISCRIMINATIVE", "GENERATIVE", "Algorithm", "Backprop",
    "BUILDERS", "Clamping", "MonteCarloPC", "Nudging", "PredictiveCoding", "StepInput",
    "make_algorithm",
]  # fmt: skip
