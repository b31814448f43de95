"""Training runs: the jitted epoch and the loops around it."""

from pcsearch.training.records import EpochRecord, RunResult
from pcsearch.training.run import make_plan, train, train_batched

__all__ = ["EpochRecord", "RunResult", "make_plan", "train", "train_batched"]
