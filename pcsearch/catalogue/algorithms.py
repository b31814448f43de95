"""The algorithms of the vocabulary and their families.

The builders are ``pcsearch.algorithms.BUILDERS``, checked against the implemented ones here
when that package is imported; the output loss is read from here, not repeated there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pcsearch.catalogue.registry import by_name

Family = Literal["pc", "ipc", "nudging", "bp", "mcpc"]


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    family: Family
    summary: str
    output_loss: Literal["se", "ce"]
    implemented: bool = True


ALGORITHMS: dict[str, AlgorithmInfo] = by_name(
    [
        AlgorithmInfo("pc-se", "pc", "predictive coding, squared-error output energy", "se"),
        AlgorithmInfo("pc-ce", "pc", "predictive coding, cross-entropy output energy", "ce"),
        AlgorithmInfo("ipc", "ipc", "incremental PC: weights move at every inference step", "se"),
        AlgorithmInfo("pn", "nudging", "positive nudging of the output towards the label", "se"),
        AlgorithmInfo("nn", "nudging", "negative nudging (beta < 0)", "se"),
        AlgorithmInfo("cn", "nudging", "centered nudging: a random sign per epoch", "se"),
        AlgorithmInfo("mcpc", "mcpc", "Monte Carlo PC (Langevin state dynamics)", "se"),
        AlgorithmInfo("bp-se", "bp", "backprop baseline, squared-error loss", "se"),
        AlgorithmInfo("bp-ce", "bp", "backprop baseline, cross-entropy loss", "ce"),
    ],
    "algorithm",
)
