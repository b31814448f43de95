"""Finished trials per hour on mlp-mnist (3 epochs a trial), by worker layout.

Layouts, measured side by side in one run on the same machine, every worker on a core of
its own (single-threaded, pinned):
  one worker; one worker per core; one worker training K trials together (K = 4, 8, 16).
Each layout runs real `pcsearch worker` processes on a fresh journal-file study. The
structural hyperparameters are fixed (T, activation) so every layout trains the same
networks; the traced ones (learning rates, momentum, decay) are sampled. A warm-up study
fills the persistent compilation cache first, so the figures are steady-state throughput.

    .venv/bin/python benchmarks/search_throughput.py [--data-dir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import optuna  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from search_spaces import SearchSpace, default_space  # noqa: E402
from store.config import StudyConfig  # noqa: E402
from store.storage import open_storage  # noqa: E402
from store.studies import create_or_resume  # noqa: E402
from workers.local import start_workers  # noqa: E402


def fixed_structure_space() -> dict:
    space = default_space("mlp-mnist", "pc-se").to_dict()
    space["name"] = "throughput-benchmark"
    space["params"]["T"] = {"type": "fixed", "value": 8}
    space["params"]["activation"] = {"type": "fixed", "value": "gelu"}
    SearchSpace.from_dict(space)
    return space


def run_layout(
    workdir: Path,
    label: str,
    trials: int,
    jobs: int,
    batch: int,
    data_dir: str,
    epochs: int,
    max_batches: int | None = None,
) -> dict:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-")  # a valid study name
    storage = str(workdir / f"{name}.journal")
    config = StudyConfig(
        task="mlp-mnist",
        algorithm="pc-se",
        space=fixed_structure_space(),
        n_trials=trials,
        sampler="random",
        pruner="none",
        seed=1,
        overrides={"epochs": epochs},
        batch=batch,
        data_dir=data_dir,
        max_batches=max_batches,
    )
    create_or_resume(open_storage(storage), name, config)
    start = time.perf_counter()
    procs = start_workers(storage, name, jobs, 0, workdir / name, batch, pin=True)
    peaks = []
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        if status != 0:
            raise SystemExit(f"{label}: a worker failed; see {workdir / name}")
        peaks.append(usage.ru_maxrss / 1024)
    seconds = time.perf_counter() - start
    return {
        "label": label,
        "trials": trials,
        "seconds": seconds,
        "per_hour": trials / seconds * 3600,
        "peak_mb": peaks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("PCSEARCH_DATA_DIR") or str(REPO.parent / "shared" / "data")
    parser.add_argument("--data-dir", default=default_data)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--trials", type=int, default=12, help="trials for the unbatched layouts")
    parser.add_argument("--batches", default="4,8,16", help="K values for batched layouts")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 epoch of 20 batches, 2 trials, K=2, no warm-up (a smoke test, not a measurement)",
    )
    args = parser.parse_args()
    max_batches = None
    if args.quick:
        args.epochs, args.trials, args.batches, max_batches = 1, 2, "2", 20
    cores = os.cpu_count() or 1
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="pcsearch-throughput-") as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("PCSEARCH_CACHE_DIR", str(workdir / "cache"))
        print(f"machine: {describe()}; mlp-mnist, pc-se, T=8, {args.epochs} epochs per trial")
        ks = [int(k) for k in args.batches.split(",") if k]
        if args.quick:
            print("no warm-up under --quick: the first layout compiles", flush=True)
        else:
            print("warming the compilation cache ...", flush=True)
            for k in sorted({1, *ks}):
                run_layout(workdir, f"warmup-k{k}", k, 1, k, args.data_dir, 1)
            run_layout(workdir, "warmup-jobs", cores, cores, 1, args.data_dir, 1)
        rows = [
            run_layout(
                workdir, "one worker", args.trials, 1, 1, args.data_dir, args.epochs, max_batches
            )
        ]
        rows.append(
            run_layout(
                workdir,
                f"{cores} workers (one per core)",
                args.trials,
                cores,
                1,
                args.data_dir,
                args.epochs,
                max_batches,
            )
        )
        for k in ks:
            rows.append(
                run_layout(
                    workdir,
                    f"one worker, batch K={k}",
                    k * -(-args.trials // k),  # whole batches, at least --trials
                    1,
                    k,
                    args.data_dir,
                    args.epochs,
                    max_batches,
                )
            )
    base = rows[0]["per_hour"]
    print(f"\n{'layout':<32} {'trials':>6} {'seconds':>8} {'trials/h':>9} {'x one':>6}  peak MB")
    for r in rows:
        peaks = ", ".join(f"{p:.0f}" for p in r["peak_mb"])
        print(
            f"{r['label']:<32} {r['trials']:>6} {r['seconds']:>8.1f} {r['per_hour']:>9.0f} "
            f"{r['per_hour'] / base:>6.2f}  {peaks}"
        )


if __name__ == "__main__":
    main()
