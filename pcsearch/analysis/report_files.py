"""Write a whole report folder: tables, comparison, figures per study, and an index.

Everything here takes plain data (``ResultCell``, ``StudyFigures``), so the code that reads
Optuna studies stays apart from the code that draws, and both can be tested alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pcsearch.analysis.compare import ComparisonRow, comparison_csv, comparison_markdown
from pcsearch.analysis.memory_table import is_memory_cell
from pcsearch.analysis.summary import Direction, ResultCell
from pcsearch.analysis.tables import table_csv, table_markdown
from pcsearch.analysis.units import is_accuracy, metric_label, to_display


@dataclass(frozen=True)
class StudyFigures:
    """What the figures of one study are drawn from, in pcsearch's units.

    ``trial_values``: (trial number, value); ``state_lr_points``: (state_lr, value), empty
    for BP; ``energy_per_step``: [steps][layers] of the best configuration (step 0 =
    before inference), or None; ``imbalance_points``: (state_lr, E_1 / E_L).
    """

    study: str
    task: str
    algorithm: str
    metric: str
    direction: Direction
    trial_values: list[tuple[int, float]] = field(default_factory=list)
    state_lr_points: list[tuple[float, float]] = field(default_factory=list)
    energy_per_step: list[list[float]] | None = None
    imbalance_points: list[tuple[float, float]] = field(default_factory=list)


def safe_name(name: str) -> str:
    """A study name as a file name: letters, digits, '.', '_' and '-' only, never empty."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned or "study"


def _unique_names(studies: Sequence[StudyFigures]) -> list[str]:
    """One distinct file stem per study, even when two names clean to the same text."""
    seen: dict[str, int] = {}
    names = []
    for study in studies:
        base = safe_name(study.study)
        count = seen.get(base.lower(), 0) + 1
        seen[base.lower()] = count
        names.append(base if count == 1 else f"{base}-{count}")
    return names


def _study_files(out: Path, stem: str, study: StudyFigures) -> list[tuple[Path, str]]:
    from pcsearch.analysis import plots

    label = metric_label(study.metric)
    where = f"{study.study} ({study.task}, {study.algorithm})"
    written = [
        (
            plots.plot_optimisation_history(
                out / f"{stem}-history.png",
                [(n, to_display(v, study.metric)) for n, v in study.trial_values],
                study.direction,
                f"Optimisation history: {where}",
                label,
            ),
            f"{study.study}: {label} of every trial by trial number, and the best so far.",
        )
    ]
    if study.state_lr_points:
        points = [(x, to_display(y, study.metric)) for x, y in study.state_lr_points]
        written.append(
            (
                plots.plot_metric_against(
                    out / f"{stem}-metric-vs-state-lr.png",
                    points,
                    "state learning rate γ",
                    label,
                    f"{label} against state learning rate: {where}",
                ),
                f"{study.study}: {label} of every trial against its state learning rate "
                "(log x, as the paper's Fig. 6c).",
            )
        )
    if study.energy_per_step is not None:
        written.append(
            (
                plots.plot_energy_per_step(
                    out / f"{stem}-energy-per-step.png",
                    study.energy_per_step,
                    f"Energy per layer during inference, best configuration: {where}",
                ),
                f"{study.study}: energy of each layer at each inference step of the best "
                "configuration (log y, as the paper's Fig. 6b).",
            )
        )
    if study.imbalance_points:
        written.append(
            (
                plots.plot_energy_imbalance(
                    out / f"{stem}-imbalance.png",
                    {study.task: study.imbalance_points},
                    f"Energy imbalance against state learning rate: {where}",
                ),
                f"{study.study}: energy imbalance E_1 / E_L (first hidden layer over output) "
                "against the state learning rate (log-log, as the paper's Fig. 6d).",
            )
        )
    return written


def _index(entries: Sequence[tuple[Path, str]], out: Path) -> str:
    lines = ["# pcsearch report", "", "Every file of this report, and what it shows:", ""]
    for path, what in entries:
        name = path.relative_to(out).as_posix()
        lines.append(f"- [{name}]({name}): {what}")
    return "\n".join(lines) + "\n"


def write_report(
    out: Path,
    cells: Sequence[ResultCell],
    studies: Sequence[StudyFigures],
    comparison: Sequence[ComparisonRow] | None = None,
) -> list[Path]:
    """Write the report into ``out`` (created if needed); return every file written.

    index.md comes last in the list and links all the others with one line each.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    accuracy = any(is_accuracy(cell.metric) for cell in cells)
    unit_words = "accuracy in percent; " if accuracy else ""
    entries: list[tuple[Path, str]] = []

    def text(name: str, body: str, what: str) -> None:
        path = out / name
        path.write_text(body, encoding="utf-8")
        entries.append((path, what))

    memory = (
        " and, for associative memories, of its Table 3" if any(map(is_memory_cell, cells)) else ""
    )
    text(
        "table.md",
        table_markdown(cells),
        f"results table in the layout of the paper's Table 1{memory} ({unit_words}mean ± std).",
    )
    text(
        "table.csv",
        table_csv(cells),
        "the same cells as CSV, one line per cell, in pcsearch's units at full precision.",
    )
    if comparison is not None:
        text(
            "comparison.md",
            comparison_markdown(comparison),
            "measured cells next to the paper's numbers, with differences in the paper's unit.",
        )
        text(
            "comparison.csv",
            comparison_csv(comparison),
            "the comparison as CSV at full precision.",
        )
    for stem, study in zip(_unique_names(studies), studies, strict=True):
        entries.extend(_study_files(out, stem, study))
    index = out / "index.md"
    index.write_text(_index(entries, out), encoding="utf-8")
    return [path for path, _ in entries] + [index]
