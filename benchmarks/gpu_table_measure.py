"""``gpu_table.py``'s measurements: one setting's PC and BP epochs, and K batched trials.

Timing blocks on results: ``train`` reads every epoch's energies back to NumPy inside the
timed span, so asynchronous dispatch cannot end an epoch early.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.gpu_table_settings import BATCHED_T, BATCHED_TASK, Options, TableSetting
from benchmarks.paper_table4 import PAPER_BATCH, PAPER_TABLE4, TRAIN_SIZES


def use_fresh_compile_cache() -> Path:
    """A private persistent cache: no earlier run's programs, and none left behind here."""
    folder = Path(tempfile.mkdtemp(prefix="pcsearch-gpu-table-"))
    os.environ["PCSEARCH_CACHE_DIR"] = str(folder)
    os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
    return folder


def synthetic_examples(wanted: int) -> int:
    """Make pcsearch's synthetic training sets at least ``wanted`` examples long.

    Synthetic data is a fixed-size random set (4,096 examples); a setting that measures
    more batches than that asks for more here, and the size goes back for the next one
    (the arrays of one size at a time stay on the device). Returns the size now in force.
    """
    from pcsearch.training import device_data

    if not hasattr(device_data, "SYNTHETIC_TRAIN"):
        return 4096
    default = _SYNTHETIC_DEFAULT.setdefault("train", int(device_data.SYNTHETIC_TRAIN))
    size = max(wanted, default)
    if size != device_data.SYNTHETIC_TRAIN:
        device_data.SYNTHETIC_TRAIN = size
        clear = getattr(device_data._synthetic, "cache_clear", None)
        if clear is not None:
            clear()  # the other size's arrays go; the next request makes new ones
    return size


_SYNTHETIC_DEFAULT: dict[str, int] = {}


def split_epochs(seconds: list[float]) -> tuple[float | None, float | None]:
    """(first epoch, mean of the later epochs); None where there is none."""
    first = seconds[0] if seconds else None
    later = seconds[1:]
    return first, (statistics.fmean(later) if later else None)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def chosen_loop(opts: Options, task: str) -> str:
    """The epoch loop ``opts.epoch_loop`` means for ``task`` on this backend."""
    import jax

    from pcsearch.catalogue import task_info
    from pcsearch.training.epoch_loop import choose_epoch_loop

    return choose_epoch_loop(opts.epoch_loop, jax.default_backend(), task_info(task).model)


def measure_setting(setting: TableSetting, task: str, opts: Options) -> list[dict[str, Any]]:
    """pcsearch PC and BP on ``task``: one ``train`` each, on synthetic data."""
    from pcsearch.catalogue import task_info
    from pcsearch.params import resolve
    from pcsearch.training import train

    batches = opts.batches or setting.batches
    size = synthetic_examples(batches * opts.batch_size)
    batches = min(batches, size // opts.batch_size)
    dataset = task_info(task).dataset
    full_batches = TRAIN_SIZES.get(dataset, size) // opts.batch_size
    paper = PAPER_TABLE4[setting.paper]
    rows = []
    for kind in ("PC", "BP"):
        algorithm = f"{kind.lower()}-{opts.loss}"
        overrides: dict[str, Any] = {"batch_size": opts.batch_size, "epochs": opts.epochs}
        if kind == "PC" and opts.T is not None:
            overrides["T"] = opts.T
        params = resolve(task, algorithm, overrides)
        result, wall = timed(
            lambda a=algorithm, o=overrides: train(
                task,
                a,
                o,
                seed=opts.seed,
                synthetic=True,
                max_batches=batches,
                epoch_loop=opts.epoch_loop,
            )
        )
        seconds = [r.seconds for r in result.history]
        first, steady = split_epochs(seconds)
        per_batch = None if steady is None else steady / batches
        full = None if per_batch is None else per_batch * full_batches
        same_data = dataset == paper.dataset and opts.batch_size == PAPER_BATCH
        rows.append(
            {
                "setting": setting.key,
                "paper_row": paper.label,
                "task": task,
                "runner": f"pcsearch {kind}",
                "algorithm": algorithm,
                "T": params.get("T") if kind == "PC" else None,
                "activation": params["activation"],
                "batch_size": opts.batch_size,
                "batches_measured": batches,
                "epoch_seconds": seconds,
                "first_epoch_s": first,
                "steady_epoch_s": steady,
                "ms_per_batch": None if per_batch is None else 1000 * per_batch,
                "full_epoch_batches": full_batches,
                "est_full_epoch_s": full,
                "paper_s": paper.seconds(kind),
                "paper_ms_per_batch": 1000 * paper.seconds(kind) / paper.batches,
                "paper_comparable": same_data,
                "paper_over_ours": (
                    None if full is None or not same_data else paper.seconds(kind) / full
                ),
                "status": result.status,
                "run_wall_s": wall,
                "epoch_loop": chosen_loop(opts, task),
            }
        )
    return rows


def batched_members(k: int) -> list[dict[str, Any]]:
    """K configurations that differ only in traced values: a search's batch of trials."""
    members = []
    for i in range(k):
        f = 2.0 ** ((i - (k - 1) / 2) / max(k, 2))  # spread around the paper's values
        members.append(
            {
                "state_lr": 0.0105 * f,
                "state_momentum": 0.65,
                "weight_lr": 2.97e-4 / f,
                "weight_decay": 3.55e-4,
            }
        )
    return members


def measure_batched(k: int, opts: Options) -> dict[str, Any]:
    from pcsearch.training import train_batched

    batches = opts.batched_batches
    size = synthetic_examples(batches * opts.batch_size)
    batches = min(batches, size // opts.batch_size)
    full_batches = TRAIN_SIZES["mnist"] // opts.batch_size
    base: dict[str, Any] = {
        "batch_size": opts.batch_size,
        "epochs": opts.epochs,
        "T": opts.T or BATCHED_T,
        "activation": "gelu",
    }
    members = [base | m for m in batched_members(k)]
    results, wall = timed(
        lambda: train_batched(
            BATCHED_TASK,
            "pc-se",
            members,
            synthetic=True,
            max_batches=batches,
            data_seed=0,
            epoch_loop=opts.epoch_loop,
        )
    )
    seconds = [r.seconds for r in results[0].history]  # one program: the same for every member
    first, steady = split_epochs(seconds)
    epoch_full = None if steady is None else steady * full_batches / batches
    trial = None if epoch_full is None else opts.trial_epochs * epoch_full
    return {
        "K": k,
        "task": BATCHED_TASK,
        "algorithm": "pc-se",
        "T": base["T"],
        "batch_size": opts.batch_size,
        "batches_measured": batches,
        "epoch_seconds": seconds,
        "first_epoch_s": first,
        "steady_epoch_s": steady,
        "est_full_epoch_s": epoch_full,
        "trial_epochs": opts.trial_epochs,
        "trials_per_hour": None if not trial else k * 3600.0 / trial,
        "statuses": sorted({r.status for r in results}),
        "epoch_loop": chosen_loop(opts, BATCHED_TASK),
        "run_wall_s": wall,
    }
