"""The paper's published numbers, as data, to compare a reproduction against.

The numbers live in ``paper_results.json`` (next to this module) in the units the paper
prints them, so anyone can check them against the PDF line by line; ``PaperResult``
converts them to pcsearch's units on request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pcsearch.analysis.summary import setting_text
from pcsearch.analysis.units import unit_scale

PAPER_ALGORITHMS = ("pc-ce", "pc-se", "pn", "nn", "cn", "ipc", "bp-ce", "bp-se")
"""Table 1's column order."""

UNNAMED_PC = "pc"
"""A paper result for PC whose output energy (SE or CE) the paper does not name."""

_REQUIRED = ("source", "task", "algorithm", "metric", "mean", "std", "unit")


@dataclass(frozen=True)
class PaperResult:
    """One published cell: mean ± std as printed, in ``unit`` ("percent", "x1e-3", ...)."""

    source: str
    task: str
    algorithm: str
    metric: str
    mean: float
    std: float | None
    unit: str
    setting: tuple[tuple[str, str | int | float], ...] = ()
    note: str | None = None

    @property
    def scale(self) -> float:
        """Measured value = printed value x scale (0.01 for percent, 1e-3 for x1e-3)."""
        return unit_scale(self.unit)

    def measured_mean(self) -> float:
        """The mean in pcsearch's units: a fraction for accuracy, a plain MSE."""
        return self.mean * self.scale

    def measured_std(self) -> float | None:
        """The std in pcsearch's units, or None where the paper gives none."""
        return None if self.std is None else self.std * self.scale

    def to_paper_unit(self, measured: float) -> float:
        """A value in pcsearch's units expressed in this result's printed unit."""
        return measured / self.scale

    @property
    def setting_text(self) -> str:
        return setting_text(self.setting)


def _default_path() -> Path:
    return Path(str(resources.files("pcsearch.analysis").joinpath("paper_results.json")))


def _parse(entry: dict[str, Any], index: int) -> PaperResult:
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise ValueError(f"paper result #{index} lacks {', '.join(missing)}: {entry}")
    unit_scale(entry["unit"])  # fail early on a unit nobody can convert
    setting = entry.get("setting") or {}
    return PaperResult(
        source=entry["source"],
        task=entry["task"],
        algorithm=entry["algorithm"],
        metric=entry["metric"],
        mean=float(entry["mean"]),
        std=None if entry["std"] is None else float(entry["std"]),
        unit=entry["unit"],
        setting=tuple(sorted(setting.items())),
        note=entry.get("note"),
    )


def _read(path: Path | None) -> dict[str, Any]:
    return json.loads((path or _default_path()).read_text(encoding="utf-8"))


def load_paper_results(path: Path | None = None) -> list[PaperResult]:
    """Every transcribed result, in the order of the JSON file (Table 1 first)."""
    return [_parse(entry, i) for i, entry in enumerate(_read(path)["results"])]


def paper_notes(path: Path | None = None) -> list[str]:
    """What was transcribed, what was left out, and why."""
    return list(_read(path)["notes"])
