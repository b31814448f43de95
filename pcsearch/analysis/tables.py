"""A results table laid out like the paper's Table 1, plus the same cells as CSV.

Rows are tasks (a second "(top-5)" row where top-5 accuracy was measured), columns the
algorithms in the paper's order, so a reader can put the two tables side by side: all of
Table 1's algorithms in an accuracy table (a blank is a cell not run), only the measured
ones in an MSE or other table (the paper's generative tables have a few columns each).
Associative memories also get Table 3's layout (``memory_table``). The CSV keeps every
number at full precision in pcsearch's units for further analysis.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence

from pcsearch.analysis.memory_table import memory_markdown
from pcsearch.analysis.paper_numbers import PAPER_ALGORITHMS
from pcsearch.analysis.summary import ResultCell, setting_text
from pcsearch.analysis.units import display_unit, is_accuracy, is_mse, unit_label, unit_scale

ALGORITHM_TITLES = {
    "pc-ce": "PC-CE",
    "pc-se": "PC-SE",
    "pn": "PN",
    "nn": "NN",
    "cn": "CN",
    "ipc": "iPC",
    "bp-ce": "BP-CE",
    "bp-se": "BP-SE",
    "mcpc": "MCPC",
}

RowKey = tuple[str, str, str]  # task, metric, setting text


def _group(metric: str) -> str:
    """Cells that share one table (and so one unit in the header)."""
    return "accuracy" if is_accuracy(metric) else metric


def _metric_order(metric: str) -> int:
    return {"accuracy": 0, "top5_accuracy": 1}.get(metric, 2)


def _row_label(task: str, metric: str, setting: str) -> str:
    label = {"accuracy": task, "mse": task, "top5_accuracy": f"{task} (top-5)"}.get(
        metric, f"{task} ({metric})"
    )
    return f"{label} [{setting}]" if setting else label


def _columns(cells: Sequence[ResultCell], every_paper_algorithm: bool) -> list[str]:
    measured = {cell.algorithm for cell in cells}
    paper = [a for a in PAPER_ALGORITHMS if every_paper_algorithm or a in measured]
    return [*paper, *sorted(measured - set(PAPER_ALGORITHMS))]


def _format(value: float, unit: str, metric: str) -> str:
    shown = value / unit_scale(unit)
    return f"{shown:.2f}" if is_accuracy(metric) or is_mse(metric) else f"{shown:.4g}"


def cell_text(cell: ResultCell, unit: str) -> str:
    """ "98.26 ± 0.04": mean ± std of the cell shown in ``unit``."""
    summary = cell.summary
    return f"{_format(summary.mean, unit, cell.metric)} ± {_format(summary.std, unit, cell.metric)}"


def format_seconds(seconds: float) -> str:
    """A wall time a person reads at a glance: "42 s", "12 min 05 s", "3 h 07 min"."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.0f} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {(whole % 3600) // 60:02d} min"


def _caption(cells: Sequence[ResultCell]) -> str:
    conventions = Counter(cell.summary.convention() for cell in cells)
    usual, _ = conventions.most_common(1)[0]
    text = f"Each cell: mean ± std (population std, ddof=0) of {usual}"
    exceptions = [
        f"{cell.task}/{cell.algorithm}: {cell.summary.convention()}"
        for cell in cells
        if cell.summary.convention() != usual
    ]
    if exceptions:
        text += f"; except {'; '.join(exceptions)}"
    timed = [cell.seconds for cell in cells if cell.seconds is not None]
    if timed:
        text += f". Total time: {format_seconds(sum(timed))} over {len(timed)} cell(s)"
        if len(timed) < len(cells):
            text += f" ({len(cells) - len(timed)} without a recorded time)"
    else:
        text += ". Total time: not recorded"
    return text + "."


def _one_table(cells: Sequence[ResultCell], group: str) -> list[str]:
    metric = "accuracy" if group == "accuracy" else group
    unit = display_unit(metric, [cell.summary.mean for cell in cells])
    title = {"accuracy": "Accuracy", "mse": "MSE"}.get(group, group)
    label = unit_label(unit)
    header = f"{title} ({label})" if label else title
    columns = _columns(cells, every_paper_algorithm=group == "accuracy")
    rows: dict[RowKey, dict[str, ResultCell]] = {}
    order: dict[str, int] = {}
    for cell in cells:
        order.setdefault(cell.task, len(order))
        row = rows.setdefault((cell.task, cell.metric, setting_text(cell.setting)), {})
        if cell.algorithm in row:
            raise ValueError(
                f"two results for {cell.task} / {cell.algorithm} / {cell.metric} "
                f"{setting_text(cell.setting)}: studies {row[cell.algorithm].study!r} and "
                f"{cell.study!r}; give each a distinct setting or keep one"
            )
        row[cell.algorithm] = cell
    lines = [
        "| " + " | ".join([header, *(ALGORITHM_TITLES.get(a, a.upper()) for a in columns)]) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for key in sorted(rows, key=lambda k: (order[k[0]], _metric_order(k[1]))):
        found = rows[key]
        texts = [cell_text(found[a], unit) if a in found else "" for a in columns]
        lines.append("| " + " | ".join([_row_label(*key), *texts]) + " |")
    lines += ["", _caption(cells)]
    return lines


def table_markdown(cells: Sequence[ResultCell]) -> str:
    """Table-1-style markdown: one table per kind of metric (accuracy, MSE, ...).

    Accuracy is shown in percent, MSE scaled by the power of ten named in the header;
    empty cells were not measured. A caption under each table says which seeds every
    cell averages and the total wall time. Memory cells follow again as Table 3's blocks.
    """
    if not cells:
        return "No results to show.\n"
    groups: dict[str, list[ResultCell]] = {}
    for cell in cells:
        groups.setdefault(_group(cell.metric), []).append(cell)
    ordered = sorted(groups, key=lambda g: (g != "accuracy", g != "mse", g))
    blocks = ["\n".join(_one_table(groups[group], group)) for group in ordered]
    memory = memory_markdown(cells)
    if memory:
        blocks.append("The associative memories in the layout of the paper's Table 3:\n\n" + memory)
    return "\n\n".join(blocks) + "\n"


CSV_FIELDS = (
    "task",
    "algorithm",
    "metric",
    "direction",
    "setting",
    "mean",
    "std",
    "n",
    "total",
    "failed",
    "keep_best",
    "seconds",
    "study",
)


def table_csv(cells: Sequence[ResultCell]) -> str:
    """One line per cell, in pcsearch's units (accuracy as a fraction), full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for cell in cells:
        summary = cell.summary
        writer.writerow(
            [
                cell.task,
                cell.algorithm,
                cell.metric,
                cell.direction,
                setting_text(cell.setting),
                repr(summary.mean),
                repr(summary.std),
                summary.n,
                summary.total,
                summary.failed,
                "" if summary.keep_best is None else summary.keep_best,
                "" if cell.seconds is None else repr(cell.seconds),
                "" if cell.study is None else cell.study,
            ]
        )
    return buffer.getvalue()
