"""Which epoch loop a run uses: a small table of measured choices, and the override.

XLA on the CPU runs a convolution inside a loop body far slower than outside one
(jax-ml/jax#12868), so a convolutional epoch under one ``lax.scan`` is several times
slower there than the same batches driven one jitted step at a time; an MLP is the other
way round (per-batch dispatch dominates, and the scan wins). Each entry names the
benchmark run that chose it; a backend with no entry keeps ``scan`` until measured.
Imports no JAX, so the command line can offer the choices before JAX loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from pcsearch.errors import PCSearchError

EpochLoop = Literal["scan", "steps", "unrolled"]
"""How ``pcsearch.training.epoch.train_epochs`` drives an epoch's batches: one ``lax.scan``
(one program an epoch), one jitted program per batch step, or the scan unrolled."""
EPOCH_LOOPS: tuple[EpochLoop, ...] = get_args(EpochLoop)

EpochLoopChoice = Literal["auto", "scan", "steps", "unrolled"]
"""What a caller asks for: a loop, or ``auto`` (this table's choice)."""
EPOCH_LOOP_CHOICES: tuple[EpochLoopChoice, ...] = get_args(EpochLoopChoice)
EPOCH_LOOP_HELP = (
    "how an epoch's batches are driven: auto (default: the measured choice for this backend "
    "and model, e.g. one jitted step a batch for conv models on a CPU), scan (the whole "
    "epoch in one program), steps, unrolled; the same numbers from each"
)
"""The command line's help for ``--epoch-loop`` (train and search)."""

DENSE_MODELS = frozenset({"mlp", "ae-linear", "mlp-generator"})
"""Models without convolutions; every other model of the catalogue is ``conv``."""

ModelFamily = Literal["dense", "conv"]


@dataclass(frozen=True)
class Measured:
    """A table entry: the epoch loop, whether the T inference steps are unrolled where the
    epoch is not one scan, and the benchmark run that chose them."""

    loop: EpochLoop
    unroll_inference: bool
    measured_by: str


FALLBACK = Measured("scan", False, "not measured: the whole epoch in one program")

CHOICES: dict[tuple[str, ModelFamily], Measured] = {
    ("cpu", "conv"): Measured(
        "steps",
        True,
        "benchmarks/epoch_time.py --settings c,d,e --batch-c 128 --batches-c 1 --epochs-c 3 "
        "--loops auto (2-core Xeon, 2026-12-06, channels-last states): VGG-5 PC-CE T=8 4.05 s "
        "a steady batch against pcx's 6.35 s, VGG-7 T=12 27.1 s against 45.7 s; --quick "
        "--settings c --loops auto,scan,unrolled: steps 0.37 s, scan 15.3 s, unrolled 0.36 s "
        "(but compiling every batch of the epoch)",
    ),
    ("cpu", "dense"): Measured(
        "scan",
        False,
        "benchmarks/epoch_time.py --settings a,b (README): the whole epoch in one program, "
        "1.35x (MNIST) to 2.5x (digits) faster than pcx; steps adds a dispatch a batch",
    ),
}
"""(backend, model family) -> the measured loop; GPUs and TPUs: ``FALLBACK`` until measured."""


def model_family(model: str) -> ModelFamily:
    return "dense" if model in DENSE_MODELS else "conv"


def check_epoch_loop(choice: str) -> EpochLoopChoice:
    if choice not in EPOCH_LOOP_CHOICES:
        raise PCSearchError(
            f"epoch_loop={choice!r} is not an epoch loop; choose one of "
            f"{', '.join(EPOCH_LOOP_CHOICES)} (auto: the measured choice per backend and model)"
        )
    return choice  # type: ignore[return-value]


def measured_choice(backend: str, model: str) -> Measured:
    """The table's entry for the backend (``jax.default_backend()``) and the model."""
    return CHOICES.get((backend, model_family(model)), FALLBACK)


def choose_epoch_loop(choice: str, backend: str, model: str) -> EpochLoop:
    """The loop for a run: ``choice`` itself, or for ``auto`` the table's entry."""
    if check_epoch_loop(choice) == "auto":
        return measured_choice(backend, model).loop
    assert choice in EPOCH_LOOPS
    return choice  # type: ignore[return-value]


def unroll_inference(backend: str, model: str, loop: EpochLoop) -> bool:
    """Whether the T inference steps run unrolled: where the table says so and the epoch
    is not one ``scan`` (inside a scan, unrolled convolutions were slower still; so
    ``--epoch-loop scan`` runs exactly as before the choice existed)."""
    return measured_choice(backend, model).unroll_inference and loop != "scan"
