"""Plain result records: what a run produced, ready for JSON and for Optuna attributes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["completed", "diverged", "stopped"]


@dataclass
class EpochRecord:
    epoch: int
    """1-based, as a researcher counts epochs."""
    value: float | None
    """The task's metric on the test set (None once the run has diverged)."""
    energy_per_layer: list[float]
    seconds: float
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class RunResult:
    task: str
    algorithm: str
    params: dict[str, Any]
    seed: int
    metric: str
    direction: str
    data_seed: int = 0
    status: Status = "completed"
    value: float | None = None
    """The last epoch's metric (None once the run has diverged)."""
    best_value: float | None = None
    """The best epoch's metric: what the paper's code reports for a run."""
    best_epoch: int | None = None
    reason: str | None = None
    history: list[EpochRecord] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    synthetic: bool = False
    """Trained on random data of the task's shapes (a timing or smoke run), not the dataset."""
    energy_per_step: list[list[float]] | None = None
    """Mean energy of each layer at each inference step on a probe batch after the last
    epoch ([T + 1][layers]), when asked for (``energy_trace=True``); None otherwise."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
