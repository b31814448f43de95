"""The energy-propagation analysis of the paper's Section 5 (Figs. 6, 14 and 15).

One configuration trained at several state learning rates and seeds, all in one batched
program (the state learning rate is traced), each run's energy per layer and inference
step recorded on the probe batch at the end of training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pcsearch.training.run import train_batched

PAPER_STATE_LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
"""Appendix D.1's grid of state learning rates."""

SECTION_5 = {
    "hidden_layers": 2,
    "hidden_width": 128,
    "T": 8,
    "epochs": 8,
    "init": "forward",
    "state_optimizer": "sgd",
    "state_momentum": 0.0,
    "weight_decay": 0.0,
    "weight_schedule": "constant",
    "activation": "hard_tanh",
    "weight_optimizer": "adamw",
    "weight_lr": 1e-3,
}
"""Appendix D.1's setting (one point of its grid: AdamW at 1e-3, hard_tanh, width 128)."""


@dataclass(frozen=True)
class SweepRun:
    task: str
    state_lr: float
    seed: int
    value: float | None
    """The best epoch's test metric (None if the run diverged before one)."""
    status: str
    energy_per_step: list[list[float]] | None


def energy_sweep(
    task: str,
    algorithm: str = "pc-ce",
    state_lrs: Sequence[float] = PAPER_STATE_LRS,
    seeds: Sequence[int] = (0, 1, 2),
    params: Mapping[str, Any] | None = None,
    data_dir: str | None = None,
) -> list[SweepRun]:
    base = {**SECTION_5, **(params or {})}
    grid = [(lr, seed) for lr in state_lrs for seed in seeds]
    members = [{**base, "state_lr": lr} for lr, _ in grid]
    results = train_batched(
        task,
        algorithm,
        members,
        seeds=[seed for _, seed in grid],
        data_dir=data_dir,
        energy_trace=True,
    )
    return [
        SweepRun(task, lr, seed, r.best_value, r.status, r.energy_per_step)
        for (lr, seed), r in zip(grid, results, strict=True)
    ]
