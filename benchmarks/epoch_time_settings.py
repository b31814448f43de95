"""``epoch_time.py``'s settings (a) to (e), its runners, and the compile-reuse values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PC, BP, PEER = "pcsearch PC", "pcsearch BP", "pcx PC"
SAME_JAX = "pcsearch PC, peer jax"


def batched_runner(members: int) -> str:
    """The runner of K pcsearch PC trials trained together (``--members-c K``): its epoch
    time and peak memory are for all K."""
    return f"{PC} x{members} trials"


def loop_runner(loop: str) -> str:
    """The runner of pcsearch PC with an epoch loop other than ``auto`` (PC's own)."""
    return PC if loop == "auto" else f"{PC} {loop}"


# Traced hyperparameters for the compile-reuse check: three distinct sets, same structure.
REUSE_VALUES: tuple[dict[str, float], ...] = (
    {"state_lr": 0.01, "state_momentum": 0.5, "weight_lr": 1e-3, "weight_decay": 1e-4},
    {"state_lr": 0.02, "state_momentum": 0.7, "weight_lr": 5e-4, "weight_decay": 3e-4},
    {"state_lr": 0.005, "state_momentum": 0.3, "weight_lr": 2e-3, "weight_decay": 1e-5},
)


@dataclass(frozen=True)
class Setting:
    """One benchmark setting: a pcsearch task and the structure both libraries train."""

    key: str
    title: str
    task: str
    dataset: str
    hidden_width: int
    hidden_layers: int
    batch_size: int
    T: int | None
    """None: the paper's value for the task and algorithm (pcsearch resolves it)."""
    epochs: int
    targets: dict[str, float] = field(default_factory=dict)
    """Issue targets: minimum pcx/pcsearch speed-up, maximum PC/BP ratio."""
    model: str = "mlp"
    algorithms: tuple[str, str] = ("pc-se", "bp-se")
    """pcsearch's (PC, BP) algorithms; the peer trains the PC one's output energy."""
    synthetic: bool = False
    """Random data of the dataset's shapes (pcsearch's ``synthetic=True``), no files."""
    max_batches: int | None = None
    """Batches per epoch (and of the test set); None: the whole data set."""
    paper: str | None = None
    """The row of the paper's Table 4 (``PAPER_TABLE4``) this setting is closest to."""
    peer: str = ""
    """Why pcx cannot run this setting (``benchmarks/pcx_peer.py`` has no such model);
    empty: it can."""
    conv: bool = False
    """A convolutional setting: pcsearch PC runs once per ``--loops`` epoch loop."""

    @property
    def pc_algorithm(self) -> str:
        return self.algorithms[0]

    def overrides(self, algorithm: str) -> dict[str, Any]:
        """pcsearch overrides; everything else comes from the task's paper defaults."""
        values: dict[str, Any] = {"batch_size": self.batch_size, "epochs": self.epochs}
        if self.model == "mlp":
            values |= {
                "hidden_width": self.hidden_width,
                "hidden_layers": self.hidden_layers,
                "activation": "gelu",
            }
        if algorithm.startswith("pc") and self.T is not None:
            values["T"] = self.T
        return values


C_TIMING = {"batch_size": 16, "batches": 2}
"""Setting (c)'s defaults: small enough for two CPU cores (a VGG-5 PC batch of 16 is about
130 GFLOP); ``--batch-c 128`` is the paper's batch size, for a bigger machine."""
C_QUICK = {"batch_size": 4, "batches": 2}
"""Setting (c) under ``--quick``: a smoke run, not a measurement."""


def make_settings(
    epochs_a: int,
    epochs_b: int,
    epochs_c: int = 3,
    batch_c: int = C_TIMING["batch_size"],
    batches_c: int = C_TIMING["batches"],
) -> dict[str, Setting]:
    return {
        "a": Setting(
            "a",
            "(a) MNIST 784-128-128-128-10, gelu, batch 128, T=8, PC-SE",
            "mlp-mnist",
            "mnist",
            128,
            3,
            128,
            8,
            epochs_a,
            {"speedup": 1.3, "pc_bp": 4.0},
            paper="MLP",
        ),
        "b": Setting(
            "b",
            "(b) digits 64-64-64-10, gelu, batch 32, T=8, PC-SE",
            "mlp-digits",
            "digits",
            64,
            2,
            32,
            8,
            epochs_b,
            {"speedup": 3.0},
        ),
        "c": Setting(
            "c",
            f"(c) VGG-5, CIFAR-10-shaped synthetic data, batch {batch_c}, {batches_c} batches "
            "an epoch, T=8, PC-CE (the paper's VGG-5 CIFAR-10 values), crop+flip",
            "vgg5-cifar10",
            "cifar10",
            0,
            0,
            batch_c,
            None,
            epochs_c,
            model="vgg5",
            algorithms=("pc-ce", "bp-ce"),
            synthetic=True,
            max_batches=batches_c,
            paper="VGG-5",
            conv=True,
        ),
        "d": Setting(
            "d",
            f"(d) VGG-7, Tiny ImageNet-shaped synthetic data (64x64, 56 crop), batch {batch_c}, "
            f"{batches_c} batches an epoch, T=12, PC-CE (the paper's VGG-7 Tiny ImageNet values)",
            "vgg7-tinyimagenet",
            "tinyimagenet",
            0,
            0,
            batch_c,
            None,
            epochs_c,
            model="vgg7",
            algorithms=("pc-ce", "bp-ce"),
            synthetic=True,
            max_batches=batches_c,
            paper="VGG-7",
            conv=True,
        ),
        "e": Setting(
            "e",
            f"(e) deconv autoencoder (Table 8), CIFAR-10-shaped synthetic data, batch {batch_c}, "
            f"{batches_c} batches an epoch, T=20, PC-SE vs BP-SE",
            "ae-cifar10",
            "cifar10-raw",
            0,
            0,
            batch_c,
            None,
            epochs_c,
            model="ae-deconv",
            algorithms=("pc-se", "bp-se"),
            synthetic=True,
            max_batches=batches_c,
            conv=True,
        ),
    }
