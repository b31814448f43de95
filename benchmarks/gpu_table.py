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

The parts live beside this script: ``gpu_table_settings`` (the settings and options),
``gpu_table_measure`` (the timed runs) and ``gpu_table_report`` (the JSON and the table);
the paper's Table 4 comes from ``paper_table4``, which ``epoch_time.py`` reads too.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script, the repository uninstalled

from benchmarks.gpu_table_measure import (  # noqa: E402
    measure_batched,
    measure_setting,
    use_fresh_compile_cache,
)
from benchmarks.gpu_table_report import Report, describe_device, format_number  # noqa: E402
from benchmarks.gpu_table_settings import (  # noqa: E402
    BATCHED_KS,
    DEFAULT_SETTINGS,
    SETTINGS,
    Options,
    pick_task,
    tiny_options,
)
from benchmarks.paper_table4 import PAPER_GPU, PAPER_TABLE4  # noqa: E402

__all__ = [  # what tests and other scripts use of this one, as before it was split
    "PAPER_GPU",
    "PAPER_TABLE4",
    "SETTINGS",
    "Report",
    "main",
    "parse_args",
]


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
    parser.add_argument(
        "--epoch-loop",
        choices=("auto", "scan", "steps", "unrolled"),
        default="auto",
        help="how epochs are driven (default auto: the trainer's measured choice per backend "
        "and model; every row records the loop it ran)",
    )
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
    opts.epoch_loop = args.epoch_loop
    return opts


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
                f"{row['runner']:<12} first {format_number(row['first_epoch_s'], '.3f')} s, "
                f"steady {format_number(row['steady_epoch_s'], '.4f')} s "
                f"({row['batches_measured']} batches)",
                flush=True,
            )
            report.write(args.out)
    if args.batched:
        for k in opts.ks:
            b = measure_batched(k, opts)
            report.batched.append(b)
            print(
                f"[{time.perf_counter() - start:5.0f} s] batched K={k:<3} steady "
                f"{format_number(b['steady_epoch_s'], '.4f')} s/epoch, "
                f"{format_number(b['trials_per_hour'], '.0f')} trials/hour",
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
