"""Associative memories in the layout of the paper's Table 3.

Table 3 prints one block per corruption (noise, mask), rows the number of images memorised,
columns the hidden width d, every value in units of 1e-4. A memory study's cell carries
that condition as its ``setting`` (corruption, hidden_width, images); these blocks put the
same cells where a reader finds them in the paper. ``cue_mse`` (the error of the cue that
recall starts from) gets blocks of its own, so the gain of recall can be read off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pcsearch.analysis.summary import ResultCell
from pcsearch.analysis.units import unit_scale

SETTING_KEYS = ("corruption", "hidden_width", "images")
"""The names a memory cell's setting uses, as the paper's Table 3 numbers do."""
TABLE_3_UNIT = "x1e-4"
METRIC_TITLES = {"mse": "MSE of the recalled images", "cue_mse": "MSE of the cues"}

BlockKey = tuple[str, str, str, str]  # task, algorithm, metric, corruption


def is_memory_cell(cell: ResultCell) -> bool:
    """Whether ``cell`` is one (corruption, d, n) of an associative memory."""
    return set(SETTING_KEYS) <= {key for key, _ in cell.setting}


def _text(cell: ResultCell) -> str:
    scale = unit_scale(TABLE_3_UNIT)
    return f"{cell.summary.mean / scale:.2f} ± {cell.summary.std / scale:.2f}"


def _block(key: BlockKey, cells: Sequence[ResultCell]) -> list[str]:
    task, algorithm, metric, corruption = key
    at = {(dict(c.setting)["images"], dict(c.setting)["hidden_width"]): c for c in cells}
    sizes = sorted({n for n, _ in at})
    widths = sorted({d for _, d in at})
    title = METRIC_TITLES.get(metric, metric)
    lines = [
        f"{task} / {algorithm}, {corruption}: {title} (×10^-4); rows: images memorised, "
        "columns: hidden width d",
        "",
        "| " + " | ".join([corruption, *(str(d) for d in widths)]) + " |",
        "|---|" + "---:|" * len(widths),
    ]
    for n in sizes:
        texts = [_text(at[n, d]) if (n, d) in at else "" for d in widths]
        lines.append("| " + " | ".join([str(n), *texts]) + " |")
    return [*lines, "", _seeds(at)]


def _seeds(at: dict[tuple[Any, Any], ResultCell]) -> str:
    """Which seeds the block's cells average, naming the cells that differ from the rest."""
    conventions = Counter(cell.summary.convention() for cell in at.values())
    usual, _ = conventions.most_common(1)[0]
    others = [
        f"n = {n}, d = {d}: {cell.summary.convention()}"
        for (n, d), cell in sorted(at.items())
        if cell.summary.convention() != usual
    ]
    return f"Each cell: mean ± std of {usual}" + (f"; {'; '.join(others)}." if others else ".")


def memory_markdown(cells: Sequence[ResultCell]) -> str:
    """Table-3-style blocks for the memory cells among ``cells``; "" where there are none.
    Blocks come per (task, algorithm, metric, corruption): recall's MSE first, noise before
    mask as in the paper."""
    blocks: dict[BlockKey, list[ResultCell]] = {}
    for cell in filter(is_memory_cell, cells):
        corruption = str(dict(cell.setting)["corruption"])
        blocks.setdefault((cell.task, cell.algorithm, cell.metric, corruption), []).append(cell)
    order = sorted(blocks, key=lambda k: (k[0], k[1], k[2] != "mse", k[2], k[3] != "noise"))
    return "\n\n".join("\n".join(_block(key, blocks[key])) for key in order)
