"""Line measured cells up with the paper's numbers, to say whether a reproduction holds.

Differences are given in the paper's own unit (percentage points for accuracy, the printed
power of ten for MSE) because that is the unit in which "0.3 points off" means something
to a reader holding the paper.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pcsearch.analysis.paper_numbers import UNNAMED_PC, PaperResult
from pcsearch.analysis.summary import ResultCell, Summary, setting_text
from pcsearch.analysis.units import display_unit, unit_label, unit_scale

Key = tuple[str, str, str, tuple[tuple[str, str | int | float], ...]]
_EPS = 1e-9  # |x / 0.01 - p| can land a hair above a tolerance it equals in decimals


@dataclass(frozen=True)
class ComparisonRow:
    """A measured cell next to its paper number (None where the paper has none).

    ``measured_mean``, ``measured_std``, ``difference`` (measured - paper) and
    ``tolerance`` are all in ``unit``: the paper's unit, or the usual display unit of the
    metric when there is no paper number.
    """

    task: str
    algorithm: str
    metric: str
    setting: str
    measured: Summary
    paper: PaperResult | None
    unit: str
    measured_mean: float
    measured_std: float
    difference: float | None
    tolerance: float
    within: bool | None
    note: str = ""


def _key(task: str, algorithm: str, metric: str, setting: tuple) -> Key:
    return (task, algorithm, metric, tuple(sorted(setting)))


def _index(paper: Sequence[PaperResult]) -> dict[Key, PaperResult]:
    index: dict[Key, PaperResult] = {}
    for result in paper:
        key = _key(result.task, result.algorithm, result.metric, result.setting)
        if key in index:
            raise ValueError(
                f"two paper results for {result.task} / {result.algorithm} / {result.metric}"
                f" {result.setting_text}: {index[key].source} and {result.source}"
            )
        index[key] = result
    return index


def _match(cell: ResultCell, index: dict[Key, PaperResult]) -> tuple[PaperResult | None, str]:
    found = index.get(_key(cell.task, cell.algorithm, cell.metric, cell.setting))
    if found is not None:
        return found, ""
    if cell.algorithm in ("pc-se", "pc-ce"):
        found = index.get(_key(cell.task, UNNAMED_PC, cell.metric, cell.setting))
        if found is not None:
            return found, "the paper does not say whether its PC used SE or CE"
    per_setting = [
        key for key in index if key[:3] == (cell.task, cell.algorithm, cell.metric) and key[3]
    ]
    if per_setting and not cell.setting:
        names = sorted({name for key in per_setting for name, _ in key[3]})
        return None, (
            f"the paper reports this only per setting ({len(per_setting)} of them, by "
            f"{', '.join(names)}); give the cell a setting to compare"
        )
    return None, "no paper number"


def compare(
    cells: Sequence[ResultCell],
    paper: Sequence[PaperResult],
    tolerance_points: float = 0.3,
) -> list[ComparisonRow]:
    """One row per measured cell, matched on (task, algorithm, metric, setting).

    ``tolerance_points`` is in the paper's unit: percentage points for accuracy, and the
    printed unit for MSE (0.3 of x1e-3 is 3e-4). ``within`` is |difference| <= tolerance.
    A measured pc-se or pc-ce cell also matches a paper "pc" result that names no energy.
    """
    index = _index(paper)
    rows = []
    for cell in cells:
        found, note = _match(cell, index)
        unit = found.unit if found else display_unit(cell.metric, [cell.summary.mean])
        scale = unit_scale(unit)
        mean = cell.summary.mean / scale
        difference = None if found is None else mean - found.mean
        rows.append(
            ComparisonRow(
                task=cell.task,
                algorithm=cell.algorithm,
                metric=cell.metric,
                setting=setting_text(cell.setting),
                measured=cell.summary,
                paper=found,
                unit=unit,
                measured_mean=mean,
                measured_std=cell.summary.std / scale,
                difference=difference,
                tolerance=tolerance_points,
                within=None if difference is None else abs(difference) <= tolerance_points + _EPS,
                note=note,
            )
        )
    return rows


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _pm(mean: float, std: float | None) -> str:
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def comparison_markdown(rows: Sequence[ComparisonRow]) -> str:
    """A markdown table: measured and paper mean ± std, difference, and whether within."""
    lines = [
        "| Task | Algorithm | Metric | Unit | Measured | Seeds | Paper | Difference | Within"
        " | Source |",
        "|---|---|---|---|---:|---|---:|---:|---|---|",
    ]
    for row in rows:
        metric = f"{row.metric} ({row.setting})" if row.setting else row.metric
        paper = "—" if row.paper is None else _pm(row.paper.mean, row.paper.std)
        difference = "—" if row.difference is None else f"{row.difference:+.2f}"
        within = {None: "—", True: "yes", False: "no"}[row.within]
        source = row.paper.source if row.paper is not None else ""
        if row.note:
            source = f"{source}; {row.note}" if source else row.note
        unit = unit_label(row.unit) or "plain"
        lines.append(
            f"| {_cell(row.task)} | {_cell(row.algorithm)} | {_cell(metric)} | {unit} "
            f"| {_pm(row.measured_mean, row.measured_std)} | {row.measured.convention()} "
            f"| {paper} | {difference} | {within} | {_cell(source)} |"
        )
    tolerances = sorted({row.tolerance for row in rows})
    tolerance = ", ".join(f"{t:g}" for t in tolerances) or "—"
    lines += [
        "",
        "Difference = measured − paper, in the row's unit (percentage points for accuracy). "
        f"Within: |difference| ≤ {tolerance} in that unit. mean ± std: population std "
        "(ddof=0) of the seeds used.",
    ]
    return "\n".join(lines) + "\n"


CSV_FIELDS = (
    "task",
    "algorithm",
    "metric",
    "setting",
    "unit",
    "measured_mean",
    "measured_std",
    "n",
    "total",
    "failed",
    "keep_best",
    "paper_mean",
    "paper_std",
    "difference",
    "tolerance",
    "within",
    "source",
    "note",
)


def comparison_csv(rows: Sequence[ComparisonRow]) -> str:
    """The same rows as CSV at full precision, in each row's unit; empty = not available."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        paper = row.paper
        writer.writerow(
            [
                row.task,
                row.algorithm,
                row.metric,
                row.setting,
                row.unit,
                repr(row.measured_mean),
                repr(row.measured_std),
                row.measured.n,
                row.measured.total,
                row.measured.failed,
                "" if row.measured.keep_best is None else row.measured.keep_best,
                "" if paper is None else repr(paper.mean),
                "" if paper is None or paper.std is None else repr(paper.std),
                "" if row.difference is None else repr(row.difference),
                repr(row.tolerance),
                "" if row.within is None else str(row.within).lower(),
                "" if paper is None else paper.source,
                row.note,
            ]
        )
    return buffer.getvalue()
