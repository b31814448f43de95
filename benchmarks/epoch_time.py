"""Epoch wall time: pcsearch PC, pcsearch BP and pcx 0.6.3 PC (the paper's own library).

Settings: (a) the paper's MNIST setting (784-128-128-128-10, gelu, batch 128, T=8,
PC-SE), where compute dominates, (b) scikit-learn digits (64-64-64-10, batch 32, T=8),
where per-batch overhead dominates, and (c), run only when asked for (``--settings c``), VGG-5
of Table 5 on CIFAR-10-shaped synthetic data (PC-CE and BP-CE with the paper's VGG-5
CIFAR-10 values, T=8, the paper's crop and flip; batch 16 and 2 batches an epoch unless
``--batch-c``/``--batches-c`` say otherwise, so that two CPU cores get through it); the peer
trains the same VGG-5 built from pcx's own layers on the very same synthetic arrays; (d)
VGG-7 on Tiny ImageNet-shaped synthetic data and (e) the deconv autoencoder (PC-SE against
BP-SE; the peer trains the same decoder), sized by ``--batch-c``/``--batches-c`` too.
In the conv settings pcsearch PC runs once per ``--loops`` epoch loop (``auto``: the
trainer's measured choice, ``pcsearch.training.epoch_loop``), each its own row. Where
the paper's Table 4 has a figure for a setting (on its GPU, an A100, not this machine) it
is printed beside ours, per batch. Every measured run is its own subprocess, so peak
memory is per run and no run inherits another's compiled programs; each pcsearch run gets
a fresh persistent compilation cache, so its first epoch honestly includes compilation.
pcx runs under the peer's interpreter (``--peer-python``) via ``benchmarks/pcx_peer.py``.

A last section checks compile reuse: two pcsearch runs in one process that differ only in
traced hyperparameters, then a new process with a third set on the same cache directory.

The parts live beside this script, one idea a file: ``epoch_time_settings`` (the settings),
``epoch_time_runs`` (a measured run in a subprocess), ``epoch_time_worker`` (that child),
``epoch_time_peer`` (driving pcx), ``epoch_time_report`` (summaries and tables) and
``epoch_time_sections`` (a setting's runs, the compile-reuse check); the paper's Table 4
comes from ``paper_table4``, which ``gpu_table.py`` reads too.

Usage::

    .venv/bin/python benchmarks/epoch_time.py --peer-python /path/to/pcx-venv/bin/python
    .venv/bin/python benchmarks/epoch_time.py --quick --settings b
    .venv/bin/python benchmarks/epoch_time.py --settings c [--batch-c 128 --batches-c 4]
    .venv/bin/python benchmarks/epoch_time.py --quick --settings c   # tiny VGG-5 smoke run
    .venv/bin/python benchmarks/epoch_time.py --settings c,d --batch-c 128 --batches-c 4 \
        --loops auto                                               # the paper's batch size
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: make `benchmarks.*` importable

from benchmarks.epoch_time_peer import (  # noqa: E402
    DEFAULT_PEER_VENV,
    PEER_PACKAGES,
    check_peer,
    create_peer_venv,
    peer_args,
)
from benchmarks.epoch_time_report import (  # noqa: E402
    format_paper,
    format_ratios,
    format_table,
    machine_lines,
    summarise,
)
from benchmarks.epoch_time_runs import RESULT_PREFIX, Measured, RunFailed  # noqa: E402
from benchmarks.epoch_time_sections import run_compile_reuse, run_setting  # noqa: E402
from benchmarks.epoch_time_settings import C_QUICK, C_TIMING, make_settings  # noqa: E402
from benchmarks.epoch_time_worker import worker  # noqa: E402

__all__ = [  # what tests and other scripts use of this one, as before it was split
    "Measured",
    "format_paper",
    "format_ratios",
    "format_table",
    "main",
    "make_settings",
    "parse_args",
    "peer_args",
    "summarise",
]


# ------------------------------------------------------------------------- main


def default_data_dir() -> str:
    return os.environ.get("PCSEARCH_DATA_DIR") or str(REPO.parent / "shared" / "data")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        default="a,b,reuse",
        help="comma-separated subset of a, b, c, d, e, reuse (the compile-reuse check); "
        "default a,b,reuse ((c) VGG-5, (d) VGG-7 and (e) the deconv autoencoder take long on "
        "a CPU)",
    )
    parser.add_argument(
        "--loops",
        default="auto,scan",
        help="epoch loops pcsearch PC runs with in the conv settings (c, d, e), each its own "
        "row: auto (the trainer's measured choice), scan, steps, unrolled; default auto,scan "
        "(scan at batch 128 takes many minutes a batch on a CPU: --loops auto there)",
    )
    parser.add_argument("--epochs-a", type=int, default=3, help="epochs in setting (a)")
    parser.add_argument("--epochs-b", type=int, default=5, help="epochs in setting (b)")
    parser.add_argument("--epochs-c", type=int, default=3, help="epochs in setting (c)")
    parser.add_argument(
        "--batch-c", type=int, default=C_TIMING["batch_size"], help="batch size in setting (c)"
    )
    parser.add_argument(
        "--batches-c",
        type=int,
        default=C_TIMING["batches"],
        help="batches an epoch in setting (c) (synthetic data has 4096 examples)",
    )
    parser.add_argument(
        "--members-c",
        dest="members",
        type=int,
        default=1,
        help="in the conv settings, also train K pcsearch PC trials together (train_batched, "
        "as a worker batches trials) as their own row: epoch time and peak memory for all K",
    )
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs per runner")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"2 epochs each, setting (c) at batch {C_QUICK['batch_size']} with "
        f"{C_QUICK['batches']} batches an epoch: for smoke tests",
    )
    parser.add_argument(
        "--data-dir",
        default=default_data_dir(),
        help="folder holding mnist/; default $PCSEARCH_DATA_DIR or ../shared/data from the repo",
    )
    parser.add_argument(
        "--peer-python",
        type=Path,
        default=DEFAULT_PEER_VENV / "bin" / "python",
        help="interpreter of a virtualenv with pcx 0.6.3 (default: <repo>/.venv-pcx)",
    )
    parser.add_argument(
        "--create-peer-venv",
        action="store_true",
        help=f"create <repo>/.venv-pcx with {' '.join(PEER_PACKAGES)} first",
    )
    parser.add_argument(
        "--no-same-jax",
        dest="same_jax",
        action="store_false",
        help="skip the diagnostic run of pcsearch PC under the peer's interpreter (its JAX)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs_a, args.epochs_b, args.epochs_c = 2, 2, 2
        args.batch_c, args.batches_c = C_QUICK["batch_size"], C_QUICK["batches"]
    args.settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = set(args.settings) - {"a", "b", "c", "d", "e", "reuse"}
    if unknown:
        parser.error(f"unknown settings {sorted(unknown)}; choose from a, b, c, d, e, reuse")
    from pcsearch.training.epoch_loop import EPOCH_LOOP_CHOICES

    args.loops = [s.strip() for s in args.loops.split(",") if s.strip()] or ["auto"]
    bad = set(args.loops) - set(EPOCH_LOOP_CHOICES)
    if bad:
        parser.error(f"unknown --loops {sorted(bad)}; choose from {', '.join(EPOCH_LOOP_CHOICES)}")
    if args.members < 1:
        parser.error(f"--members-c {args.members}: give K >= 1 trials to train together")
    if min(args.epochs_a, args.epochs_b, args.epochs_c) < 1 or args.repeats < 1:
        parser.error("epochs and repeats must be at least 1")
    if min(args.batch_c, args.batches_c) < 1:
        parser.error("--batch-c and --batches-c must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(worker(json.loads(args.worker))), flush=True)
        return 0
    peer_python: Path | None = args.peer_python
    if args.create_peer_venv:
        try:
            peer_python = create_peer_venv(DEFAULT_PEER_VENV)
        except (RunFailed, subprocess.CalledProcessError, OSError) as err:
            print(f"peer unavailable: could not create {DEFAULT_PEER_VENV}: {err}")
            peer_python = None
    peer_info = None
    if peer_python is not None and ({"a", "b", "c", "d", "e"} & set(args.settings)):
        peer_info, reason = check_peer(peer_python)
        if peer_info is None:
            print(f"peer unavailable: {reason}")
            peer_python = None
    print("\n".join(machine_lines(peer_info)))
    settings = make_settings(
        args.epochs_a, args.epochs_b, args.epochs_c, args.batch_c, args.batches_c
    )
    with tempfile.TemporaryDirectory(prefix="pcsearch-epoch-time-") as tmp:
        cache_root, scratch = Path(tmp) / "caches", Path(tmp)
        for key in ("a", "b", "c", "d", "e"):
            if key in args.settings:
                run_setting(settings[key], args, peer_python, peer_info, cache_root, scratch)
        if "reuse" in args.settings:
            run_compile_reuse(settings["b"], args, cache_root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
