"""``gpu_table.py``'s settings (Table 4's rows), the batched trials, and the run options."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.paper_table4 import PAPER_BATCH, PAPER_TABLE4


@dataclass(frozen=True)
class TableSetting:
    """A row of the paper's Table 4 as measured here: which task, how many batches."""

    key: str
    paper: str
    """Key of its row in ``PAPER_TABLE4``."""
    tasks: tuple[str, ...]
    """pcsearch tasks, best first: the first one that exists is used."""
    batches: int
    """Batches per measured epoch on an accelerator; the rest is extrapolated."""


SETTINGS: dict[str, TableSetting] = {
    s.key: s
    for s in [
        TableSetting("mlp", "MLP", ("mlp-fashionmnist", "mlp-mnist"), 468),
        TableSetting("vgg5", "VGG-5", ("vgg5-cifar100", "vgg5-cifar10"), 100),
        TableSetting("vgg7", "VGG-7", ("vgg7-tinyimagenet", "vgg7-cifar100"), 50),
        TableSetting("alexnet", "AlexNet", ("alexnet-cifar10",), 100),
    ]
}
DEFAULT_SETTINGS = ("mlp", "vgg5", "vgg7")
BATCHED_TASK, BATCHED_T = "mlp-mnist", 8
BATCHED_KS = (1, 4, 16)


@dataclass
class Options:
    """How every setting and the batched trials are run (``--tiny`` shrinks it all)."""

    batch_size: int = PAPER_BATCH
    epochs: int = 4
    """Epochs per run: the first compiles, the rest are steady."""
    batches: int | None = None
    """Batches per epoch for every setting; None: each setting's own."""
    T: int | None = None
    """Override the inference steps (only ``--tiny``, to keep a CPU run short)."""
    loss: str = "se"
    trial_epochs: int = 3
    ks: tuple[int, ...] = BATCHED_KS
    batched_batches: int = 468
    seed: int = 0
    epoch_loop: str = "auto"
    """How epochs are driven (``pcsearch.training.epoch_loop``); auto: the trainer's choice."""


def tiny_options() -> Options:
    return Options(batch_size=2, epochs=2, batches=1, T=1, batched_batches=2, ks=BATCHED_KS)


def pick_task(setting: TableSetting) -> tuple[str, str | None]:
    """The first of the setting's tasks that this pcsearch has, and a note if not the first."""
    from pcsearch.catalogue import TASKS

    for task in setting.tasks:
        if task in TASKS:
            if task != setting.tasks[0]:
                return task, (
                    f"{setting.tasks[0]} is not in this pcsearch: {setting.key} runs {task}, "
                    f"so its paper figure ({PAPER_TABLE4[setting.paper].label}) is for other data"
                )
            return task, None
    raise SystemExit(f"none of {setting.tasks} is a pcsearch task")
