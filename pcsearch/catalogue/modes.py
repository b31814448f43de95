"""The modes of the vocabulary: what a network learns, what is clamped, which algorithms
train it (the paper's Sections 4.1-4.2).

The core's setup of each mode (clampings, evaluation) is ``pcsearch.training.modes.SETUPS``,
checked against this list when that module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcsearch.catalogue.algorithms import ALGORITHMS
from pcsearch.catalogue.registry import by_name
from pcsearch.errors import RegistryError

Mode = str
"""A mode's name: a key of ``MODES``."""


@dataclass(frozen=True)
class ModeInfo:
    name: str
    algorithms: tuple[str, ...]
    """The algorithms that train a task of this mode, in the order the catalogue lists them."""
    summary: str


MODES: dict[str, ModeInfo] = by_name(
    [
        ModeInfo(
            "discriminative",
            ("pc-se", "pc-ce", "ipc", "pn", "nn", "cn", "bp-se", "bp-ce"),
            "the input at the bottom, the label at the top; PC, iPC, nudging and BP",
        ),
        ModeInfo(
            "autoencoder",
            ("pc-se", "ipc", "bp-se"),
            "reconstruction: a decoder with the data at the top (BP: an encoder-decoder)",
        ),
        ModeInfo("sampling", ("mcpc",), "MCPC learns p(x) and samples it: h_0 free"),
        ModeInfo(
            "conditional-sampling",
            ("mcpc",),
            "MCPC learns p(x | label) and samples it: h_0 clamped to the label",
        ),
        ModeInfo(
            "memory",
            ("pc-se",),
            "associative memory: PC memorises images and recalls them from corrupted cues",
        ),
    ],
    "mode",
)

MODE_ALGORITHMS: dict[str, tuple[str, ...]] = {n: m.algorithms for n, m in MODES.items()}
"""Which algorithms each mode trains with (derived from ``MODES``)."""

for _mode in MODES.values():
    _unknown = [a for a in _mode.algorithms if a not in ALGORITHMS]
    if _unknown:
        raise RegistryError(
            f"mode {_mode.name!r} lists algorithms {_unknown} that pcsearch.catalogue.ALGORITHMS "
            "does not describe; fix the name or add an AlgorithmInfo"
        )
