"""The paper's Table 4, the one copy that both timing scripts import.

"Benchmarking Predictive Coding Networks - Made Simple", Table 4 (Section 6.1): seconds per
steady epoch of BP and PC trained with pcx, and of PC in Song's library, on the paper's GPU.
``epoch_time.py`` and ``gpu_table.py`` print these beside their own figures, so a figure is
corrected here and nowhere else. ``TRAIN_SIZES`` lives here too: a paper epoch is one pass
over the real data set, and both scripts scale their measured batches to one.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER_GPU = "NVIDIA A100"
PAPER_BATCH = 128
"""Table 4's batch size (``hp/batch_size`` of the timing code's configurations)."""


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's Table 4: seconds per epoch on its A100, steady epochs."""

    label: str
    dataset: str
    train_size: int
    bp: float
    pc: float
    pc_song: float
    """The other library the paper compares with (Song, 2024)."""

    @property
    def batches(self) -> int:
        """Batches in one of the paper's epochs (its loaders drop the last, partial one)."""
        return self.train_size // PAPER_BATCH

    def seconds(self, kind: str) -> float:
        return self.pc if kind == "PC" else self.bp


PAPER_TABLE4: dict[str, PaperRow] = {
    "MLP": PaperRow("MLP - FashionMNIST", "fashionmnist", 60_000, 1.82, 1.94, 5.94),
    "AlexNet": PaperRow("AlexNet - CIFAR-10", "cifar10", 50_000, 1.04, 3.86, 17.93),
    "VGG-5": PaperRow("VGG-5 - CIFAR-100", "cifar100", 50_000, 1.61, 5.33, 13.49),
    "VGG-7": PaperRow("VGG-7 - Tiny ImageNet", "tinyimagenet", 100_000, 7.59, 54.60, 137.58),
}
"""Table 4 of "Benchmarking Predictive Coding Networks - Made Simple": epoch time in
seconds, BP and PC trained with pcx, averaged over 5 trials on an A100 (Section 6.1)."""

TRAIN_SIZES = {
    "mnist": 60_000,
    "fashionmnist": 60_000,
    "cifar10": 50_000,
    "cifar100": 50_000,
    "tinyimagenet": 100_000,
}
"""Training examples of each real data set: what a full epoch would be."""
