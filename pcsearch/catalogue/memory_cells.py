"""The paper's code's best values per cell of Table 3, as data: ``memory_cells.json``.

A cell is one (corruption, hidden width d, memory size n) of an associative-memory task.
The paper's code tuned each cell on its own (its hps.json: e.g. noise recall in 1000-2000
steps at a state lr of 0.2-0.4, mask recall in 50000-100000 steps), so one set of values
cannot serve them all. ``cell_values`` turns the cell a run's hyperparameters select into
pcsearch's names; ``with_cell_values`` applies them under the caller's own overrides.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pcsearch.errors import RegistryError

FILE = "memory_cells.json"
CELL_KEYS = ("corruption", "hidden_width", "memory_size")
"""The hyperparameters that select a cell (``--set corruption=noise hidden_width=1024``)."""
TUNED = ("state_lr", "weight_lr", "T", "T_recall")
"""What a cell sets: the values the paper's code tuned per cell."""
TABLE_3_SIZES = (50, 100, 250)
"""The memory sizes Table 3 prints; the code's file also tunes 500 and 1000."""


@dataclass(frozen=True)
class MemoryCell:
    task: str
    corruption: str
    hidden_width: int
    memory_size: int
    h_lr: float
    """The code's state learning rate, a rate of the batch-mean energy of its batches."""
    w_lr: float
    T_train: int
    T_gen: int
    source: dict[str, str]
    """The file and commit of the paper's code the values come from."""
    code_batch_size: int
    """The code's batch (training and recall): h_lr / code_batch_size is a per-example rate."""

    @property
    def in_table_3(self) -> bool:
        return self.memory_size in TABLE_3_SIZES

    def values(self, state_energy: str = "sum", batch_size: int | None = None) -> dict[str, Any]:
        """The cell in pcsearch's names. ``state_lr`` is per example (``state_energy``
        "sum"), or, for "mean", a rate of the mean over ``batch_size`` examples with the same
        per-example step. With the per-example rate, recall (all n cues at once in pcsearch,
        batches of 50 in the code) steps each state as the code does."""
        per_example = round(self.h_lr / self.code_batch_size, 12)
        if state_energy == "mean":
            if batch_size is None:
                raise RegistryError("a batch-mean state_lr needs the batch_size it is a mean over")
            per_example = round(per_example * batch_size, 12)
        return {
            "state_lr": per_example,
            "weight_lr": float(self.w_lr),
            "T": int(self.T_train),
            "T_recall": int(self.T_gen),
        }


def _load() -> dict[tuple[str, str, int, int], MemoryCell]:
    data = json.loads(resources.files(__package__).joinpath(FILE).read_text(encoding="utf-8"))
    sources: dict[str, dict[str, str]] = data["sources"]
    for name, source in sources.items():
        missing = [k for k in ("repository", "commit", "file") if k not in source]
        if missing:
            raise RegistryError(
                f"{FILE}: source {name!r} lacks {missing}; name the file and commit"
            )
    cells: dict[tuple[str, str, int, int], MemoryCell] = {}
    for entry in data["cells"]:
        key = (entry["task"], entry["corruption"], entry["hidden_width"], entry["memory_size"])
        if key in cells:
            raise RegistryError(f"{FILE}: cell {key} is listed twice; keep one entry")
        if entry["source"] not in sources:
            raise RegistryError(
                f"{FILE}: cell {key} names source {entry['source']!r}; add it to 'sources' "
                f"or choose one of: {', '.join(sources)}"
            )
        values = {k: v for k, v in entry.items() if k not in ("source", "task", *CELL_KEYS)}
        cells[key] = MemoryCell(
            *key,
            **values,
            source=sources[entry["source"]],
            code_batch_size=int(data["code_batch_size"]),
        )
    return cells


MEMORY_CELLS = _load()
"""(task, corruption, hidden_width, memory_size) -> the code's values for that cell."""
CELL_TASKS = tuple(dict.fromkeys(task for task, *_ in MEMORY_CELLS))
"""The tasks that have cells (Tiny ImageNet only: the code has no MNIST memory)."""
BORROWED_CELLS = {"am-mnist": "am-tinyimagenet"}
"""task -> the task whose cells it runs with. The code has no MNIST memory, so am-mnist takes
the values the code tuned for the same (corruption, d, n) on Tiny ImageNet: a noisy cue is
recalled in 1000-2000 steps as there, not in a mask cell's 50000. They are a starting point
for MNIST, not its best values (a search per cell finds those)."""


def cell_of(task: str, params: Mapping[str, Any]) -> MemoryCell | None:
    """The cell ``params`` select for ``task`` (or for the task it borrows cells from,
    ``BORROWED_CELLS``), or None where the code tuned none (another task, width or size: the
    task's own defaults stand)."""
    if not all(k in params for k in CELL_KEYS):
        return None
    owner = BORROWED_CELLS.get(task, task)
    return MEMORY_CELLS.get((owner, *(params[k] for k in CELL_KEYS)))  # type: ignore[arg-type]


def with_cell_values(
    task: str, values: Mapping[str, Any], overrides: Collection[str] = ()
) -> dict[str, Any]:
    """``values`` (resolved, overrides applied) with the selected cell's values in place of
    the task's defaults; names in ``overrides`` (what the caller set) keep their values."""
    cell = cell_of(task, values)
    if cell is None:
        return dict(values)
    tuned = cell.values(values.get("state_energy", "sum"), values.get("batch_size"))
    return {**values, **{k: v for k, v in tuned.items() if k in values and k not in overrides}}
