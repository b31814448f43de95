"""Epoch time on an accelerator: the paper's Table 4 settings, and batched trials.

One command, one table. For the MLP, VGG-5 and VGG-7 rows of the paper's Table 4 it times
pcsearch PC and pcsearch BP (PC-SE and BP-SE with batch 128, as the paper's timing code in
liukidar/pcx ``examples/time_benchmarking`` trains them; T and the other values are the
paper's best for each task) on synthetic data of the data set's shapes, so no file is
needed: the first epoch (which includes compilation) and the mean of the later, steady
epochs, per batch, and extrapolated to a full epoch of the real data set, beside the
paper's figure. The paper's figures come from its own GPU (an NVIDIA A100, Section 6.1),
not from the device this runs on: compare ratios, not seconds. Then batched trials:
K = 1, 4, 16 configurations of mlp-mnist PC-SE (T=8, 3-epoch trials, as
``benchmarks/search_throughput.py`` measures them on CPUs) trained together by
``train_batched``, in trials per hour and against K = 1.

Timing blocks on results: pcsearch's ``train`` reads every epoch's energies back to NumPy
inside the timed span, and those come out of the same compiled loop as the new weights, so
asynchronous dispatch cannot end an epoch early. A fresh, private compilation cache per run
of this script keeps earlier runs' compiled programs out of the first-epoch figures.

It imports only JAX, Equinox, Optax, NumPy and pcsearch's core (no Optuna, SQLAlchemy or
FastAPI), and needs no network::

    python benchmarks/gpu_table.py --out $OUT/gpu.json     # on a GPU, a few minutes
    .venv/bin/python benchmarks/gpu_table.py --tiny        # plumbing check on a CPU

``--out x.json`` writes the record as JSON and the table as ``x.md`` beside it, after every
measurement, so a run cut short still leaves what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script, the repository uninstalled

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


@dataclass(frozen=True)
class TableSetting:
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


def tiny_options() -> Options:
    return Options(batch_size=2, epochs=2, batches=1, T=1, batched_batches=2, ks=BATCHED_KS)


# ------------------------------------------------------------------------- measuring


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
                task, a, o, seed=opts.seed, synthetic=True, max_batches=batches
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
            BATCHED_TASK, "pc-se", members, synthetic=True, max_batches=batches, data_seed=0
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
        "run_wall_s": wall,
    }


# ------------------------------------------------------------------------- reporting


def _f(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def describe_device() -> dict[str, str]:
    import jax

    devices = jax.devices()
    device = devices[0]
    return {
        "device": f"{device.platform}:{getattr(device, 'device_kind', 'unknown')}",
        "device_count": str(len(devices)),
        "devices": ", ".join(str(d) for d in devices),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "python": platform.python_version(),
        "host": platform.node(),
    }


@dataclass
class Report:
    info: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    batched: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ratios(self) -> list[dict[str, Any]]:
        out = []
        for key in dict.fromkeys(r["setting"] for r in self.rows):
            pc = next(
                (r for r in self.rows if r["setting"] == key and r["runner"].endswith("PC")), None
            )
            bp = next(
                (r for r in self.rows if r["setting"] == key and r["runner"].endswith("BP")), None
            )
            if pc is None or bp is None:
                continue
            paper = PAPER_TABLE4[SETTINGS[key].paper]
            out.append(
                {
                    "setting": key,
                    "pc_over_bp": _ratio(pc["steady_epoch_s"], bp["steady_epoch_s"]),
                    "paper_pc_over_bp": paper.pc / paper.bp,
                    "paper_song_over_pc": paper.pc_song / paper.pc,
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "paper": {
                "gpu": PAPER_GPU,
                "batch_size": PAPER_BATCH,
                "table4": {k: vars(v) for k, v in PAPER_TABLE4.items()},
            },
            "rows": self.rows,
            "ratios": self.ratios(),
            "batched": self.batched,
            "notes": self.notes,
        }

    def markdown(self) -> str:
        info = self.info
        lines = [
            f"## pcsearch epoch time on {info['device']}",
            "",
            f"Device: {info['devices']} ({info['backend']}), jax {info['jax']}, "
            f"python {info['python']}. Synthetic data of each data set's shapes. "
            f"Paper: Table 4, pcx on an {PAPER_GPU} (another GPU than this one), "
            f"steady epochs of the real data set, batch {PAPER_BATCH}.",
            "",
            "| setting | task | runner | T | batches timed | first epoch s (compile) "
            "| steady s/epoch | ms/batch | est. full epoch s | paper s (A100) "
            "| paper ms/batch | paper/ours |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in self.rows:
            status = "" if r.get("status", "completed") == "completed" else f" [{r['status']}]"
            paper_s = f"{r['paper_s']:.2f}" + ("" if r["paper_comparable"] else " (not comparable)")
            lines.append(
                f"| {r['paper_row']} | {r['task']} | {r['runner']} ({r['algorithm']}){status} "
                f"| {r['T'] if r['T'] is not None else '-'} | {r['batches_measured']} "
                f"| {_f(r['first_epoch_s'], '.3f')} | {_f(r['steady_epoch_s'], '.4f')} "
                f"| {_f(r['ms_per_batch'], '.3f')} | {_f(r['est_full_epoch_s'], '.3f')} "
                f"| {paper_s} | {r['paper_ms_per_batch']:.3f} "
                f"| {_f(r['paper_over_ours'], '.2f')} |"
            )
        ratios = self.ratios()
        if ratios:
            lines += [
                "",
                "| setting | PC/BP ours | PC/BP paper (pcx) | Song/pcx PC, paper |",
                "| --- | --- | --- | --- |",
            ]
            for q in ratios:
                lines.append(
                    f"| {PAPER_TABLE4[SETTINGS[q['setting']].paper].label} "
                    f"| {_f(q['pc_over_bp'], '.2f')} | {q['paper_pc_over_bp']:.2f} "
                    f"| {q['paper_song_over_pc']:.2f} |"
                )
        if self.batched:
            base = next((b for b in self.batched if b["K"] == 1), None)
            lines += [
                "",
                f"Batched trials: {BATCHED_TASK} PC-SE, T={self.batched[0]['T']}, "
                f"{self.batched[0]['trial_epochs']}-epoch trials (epochs extrapolated to "
                f"{TRAIN_SIZES['mnist'] // self.batched[0]['batch_size']} batches), K "
                "configurations in one vmapped program (`train_batched`); compile excluded.",
                "",
                "| K | batches timed | first epoch s (compile) | steady s/epoch "
                "| est. full epoch s | trials/hour | vs K=1 |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            for b in self.batched:
                speedup = _ratio(b["trials_per_hour"], base["trials_per_hour"] if base else None)
                lines.append(
                    f"| {b['K']} | {b['batches_measured']} | {_f(b['first_epoch_s'], '.3f')} "
                    f"| {_f(b['steady_epoch_s'], '.4f')} | {_f(b['est_full_epoch_s'], '.3f')} "
                    f"| {_f(b['trials_per_hour'], '.0f')} | {_f(speedup, '.2f')}x |"
                )
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, out: Path | None) -> None:
        if out is None:
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        json_path = out if out.suffix == ".json" else out.with_suffix(out.suffix + ".json")
        json_path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        json_path.with_suffix(".md").write_text(self.markdown())


# ------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        default=",".join(DEFAULT_SETTINGS),
        help=f"comma-separated subset of {', '.join(SETTINGS)}; default "
        f"{','.join(DEFAULT_SETTINGS)}",
    )
    parser.add_argument("--no-batched", dest="batched", action="store_false")
    parser.add_argument("--ks", default=",".join(map(str, BATCHED_KS)), help="batched K values")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (first compiles)")
    parser.add_argument("--batches", type=int, help="batches per epoch for every setting")
    parser.add_argument("--loss", choices=("se", "ce"), default="se", help="PC-/BP-SE or -CE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write JSON here and markdown beside it")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="batch 2, 1 batch an epoch, 2 epochs, T=1: checks the plumbing on a CPU "
        "(the MLP setting and the batched trials take seconds, each VGG a minute or so)",
    )
    args = parser.parse_args(argv)
    args.settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = set(args.settings) - set(SETTINGS)
    if unknown:
        parser.error(f"unknown settings {sorted(unknown)}; choose from {', '.join(SETTINGS)}")
    try:
        args.ks = tuple(int(k) for k in args.ks.split(",") if k.strip())
    except ValueError:
        parser.error(f"--ks takes comma-separated integers, not {args.ks!r}")
    if args.epochs < 2 or (args.batches is not None and args.batches < 1):
        parser.error("--epochs must be at least 2 (one compiles), --batches at least 1")
    if not args.ks or min(args.ks) < 1:
        parser.error("--ks needs positive integers")
    return args


def options(args: argparse.Namespace) -> Options:
    opts = tiny_options() if args.tiny else Options()
    if not args.tiny:
        opts.epochs, opts.batches = args.epochs, args.batches
    elif args.batches is not None:
        opts.batches = opts.batched_batches = args.batches
    opts.loss, opts.seed, opts.ks = args.loss, args.seed, args.ks
    return opts


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    cache = use_fresh_compile_cache()
    import jax

    opts = options(args)
    info: dict[str, Any] = describe_device() | {
        "tiny": args.tiny,
        "options": vars(opts) | {"ks": list(opts.ks)},
        "compile_cache": str(cache),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    report = Report(info)
    print(f"device: {info['devices']} (jax {jax.__version__}, backend {info['backend']})")
    if info["backend"] == "cpu" and not args.tiny:
        report.notes.append("no accelerator: these are CPU figures")
    if args.tiny:
        report.notes.append(
            "--tiny: batch 2, T=1, 1 batch an epoch (2 in the batched trials): a plumbing "
            "check, not a measurement"
        )
    for key in args.settings:
        setting = SETTINGS[key]
        task, note = pick_task(setting)
        if note:
            report.notes.append(note)
            print(f"note: {note}")
        for row in measure_setting(setting, task, opts):
            report.rows.append(row)
            print(
                f"[{time.perf_counter() - start:5.0f} s] {row['paper_row']:<22} "
                f"{row['runner']:<12} first {_f(row['first_epoch_s'], '.3f')} s, steady "
                f"{_f(row['steady_epoch_s'], '.4f')} s ({row['batches_measured']} batches)",
                flush=True,
            )
            report.write(args.out)
    if args.batched:
        for k in opts.ks:
            b = measure_batched(k, opts)
            report.batched.append(b)
            print(
                f"[{time.perf_counter() - start:5.0f} s] batched K={k:<3} steady "
                f"{_f(b['steady_epoch_s'], '.4f')} s/epoch, "
                f"{_f(b['trials_per_hour'], '.0f')} trials/hour",
                flush=True,
            )
            report.write(args.out)
    report.info["wall_s"] = time.perf_counter() - start
    report.write(args.out)
    print()
    print(report.markdown())
    print(f"total {report.info['wall_s']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
