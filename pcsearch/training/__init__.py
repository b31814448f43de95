"""Training runs: the jitted epoch and the loops around it.

The result records import without JAX; ``train`` and friends load it on first use.
"""

from typing import Any

from pcsearch.training.records import EpochRecord, RunResult

__all__ = ["EpochRecord", "RunResult", "make_plan", "train", "train_batched"]


def __getattr__(name: str) -> Any:
    if name in ("make_plan", "train", "train_batched"):
        from pcsearch.training import run

        return getattr(run, name)
    raise AttributeError(f"module 'pcsearch.training' has no attribute {name!r}")
