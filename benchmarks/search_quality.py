"""Search quality and wall time with one worker and with several on one study.

For each study seed, the same search (a real small task, pc-se, TPE, the task's default
space) runs once with one worker and once with ``--jobs`` workers, each on a fresh
journal-file study, through the machinery of ``pcsearch search --jobs`` (local
``pcsearch worker`` processes). Printed: per run the twin trials (finished trials whose
parameters repeat another's: must be 0), the best value and the wall time; then per
layout the mean and spread of the best value, and the wall-time ratio. A warm-up grid
over the structural parameters (T, activation) fills the compilation cache first, so no
layout pays for compiling what another compiled.

    .venv/bin/python benchmarks/search_quality.py [--trials 16] [--epochs 4] [--seeds 1,2,3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import optuna  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from pcsearch.catalogue import HYPERPARAMETERS  # noqa: E402
from search_spaces import SearchSpace, default_space  # noqa: E402
from store.config import StudyConfig  # noqa: E402
from store.storage import open_storage  # noqa: E402
from store.studies import create  # noqa: E402
from workers.local import start_workers  # noqa: E402

ALGORITHM = "pc-se"


def structure_grid(task: str) -> dict[str, Any]:
    """The task's space with every traced parameter fixed and every structural one on a
    grid: one trial per program the search can compile."""
    space = default_space(task, ALGORITHM).to_dict()
    space["name"], space["kind"] = "quality-warmup", "grid"
    for name, param in space["params"].items():
        if param["type"] == "fixed":
            continue
        if HYPERPARAMETERS[name].traced:
            value = param["choices"][0] if param["type"] == "categorical" else param["low"]
            space["params"][name] = {"type": "fixed", "value": value}
        elif param["type"] == "int":
            values = list(range(param["low"], param["high"] + 1, param.get("step", 1)))
            space["params"][name] = {"type": "categorical", "choices": values}
    return space


def run(
    workdir: Path, name: str, config: StudyConfig, jobs: int
) -> tuple[list[optuna.trial.FrozenTrial], float]:
    """One study to its end on ``jobs`` local workers; its trials and the wall time."""
    url = str(workdir / f"{name}.journal")
    create(open_storage(url), name, config)
    start = time.perf_counter()
    processes = start_workers(url, name, jobs, None, workdir / "logs" / name)
    for p in processes:
        if p.wait() != 0:
            log = workdir / "logs" / name / f"worker-{processes.index(p)}.log"
            raise SystemExit(f"{name}: a worker failed:\n{log.read_text()[-3000:]}")
    seconds = time.perf_counter() - start
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    return study.get_trials(deepcopy=False), seconds


def twins(trials: list[optuna.trial.FrozenTrial]) -> int:
    """Finished trials whose parameters another finished trial already had."""
    finished = (TrialState.COMPLETE, TrialState.PRUNED)  # a FAIL's retry may repeat it
    done = [tuple(sorted(t.params.items())) for t in trials if t.state in finished]
    return len(done) - len(set(done))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mlp-two-circles")
    parser.add_argument("--trials", type=int, default=16, help="trials per study")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-batches", type=int, help="cut every epoch to N batches")
    parser.add_argument("--seeds", help="study seeds, comma-separated (default 1,2,3)")
    parser.add_argument("--jobs", type=int, default=4, help="workers of the parallel layout")
    parser.add_argument("--no-warmup", action="store_true", help="skip the compile warm-up")
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    parser.add_argument(
        "--dry-run", action="store_true", help="no training: made-up values (plumbing only)"
    )
    args = parser.parse_args()
    if args.quick:
        args.trials, args.epochs, args.max_batches = 3, 1, 2
        args.jobs, args.no_warmup = 2, True
    given = args.seeds or ("1" if args.quick else "1,2,3")
    seeds = [int(s) for s in given.split(",") if s]
    cores = os.cpu_count() or 1
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = default_space(args.task, ALGORITHM)

    def config(seed: int, **changes: Any) -> StudyConfig:
        values: dict[str, Any] = {
            "task": args.task,
            "algorithm": ALGORITHM,
            "space": space.to_dict(),
            "n_trials": args.trials,
            "sampler": "tpe",
            "pruner": "none",
            "seed": seed,
            "overrides": {"epochs": args.epochs},
            "max_batches": args.max_batches,
        }
        return StudyConfig(**values | changes)

    if args.dry_run:
        os.environ["PCSEARCH_WORKER_DRY_RUN"] = "1"  # the workers inherit it
        args.no_warmup = True
    print(f"machine: {describe()}" + ("; DRY RUN: no training, made-up values" * args.dry_run))
    print(f"load average at start: {os.getloadavg()[0]:.1f} (other work shares these cores)")
    print(
        f"{args.task} / {ALGORITHM}, TPE over {space.ref}, {args.trials} trials of "
        f"{args.epochs} epoch(s), study seeds {seeds}, journal storage"
    )
    if cores < args.jobs:
        print(
            f"note: this machine has {cores} cores, so {args.jobs} workers share them "
            f"(pinned, {-(-args.jobs // cores)} a core): they cannot be {args.jobs}x faster here"
        )
    rows = []
    with tempfile.TemporaryDirectory(prefix="pcsearch-quality-") as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("PCSEARCH_CACHE_DIR", str(workdir / "cache"))
        if not args.no_warmup:
            grid = structure_grid(args.task)
            n = SearchSpace.from_dict(grid).grid_size(ALGORITHM)
            print(f"warming the compilation cache: {n} structures ...", flush=True)
            # The same epochs and batches as the runs: both shape the compiled programs.
            run(workdir, "warmup", config(0, space=grid, sampler="grid", n_trials=n), cores)
        for seed in seeds:
            for jobs in (1, args.jobs):
                name = f"quality-s{seed}-j{jobs}"
                trials, seconds = run(workdir, name, config(seed), jobs)
                done = [t for t in trials if t.state == TrialState.COMPLETE]
                best = max((t.value for t in done if t.value is not None), default=None)
                rows.append({"jobs": jobs, "seed": seed, "trials": len(done),
                             "twins": twins(trials), "best": best, "seconds": seconds})  # fmt: skip
                print(f"  seed {seed}, {jobs} worker(s): {seconds:.1f} s", flush=True)
    print(f"\n{'workers':>7} {'seed':>5} {'trials':>6} {'twins':>5} {'best':>7} {'seconds':>8}")
    for r in rows:
        best = "-" if r["best"] is None else f"{r['best']:.4f}"
        print(
            f"{r['jobs']:>7} {r['seed']:>5} {r['trials']:>6} {r['twins']:>5} {best:>7} "
            f"{r['seconds']:>8.1f}"
        )
    print(f"\n{'workers':>7} {'mean best':>9} {'sd best':>8} {'twins':>5} {'mean s':>7}")
    mean_seconds = {}
    for jobs in (1, args.jobs):
        mine = [r for r in rows if r["jobs"] == jobs]
        bests = [r["best"] for r in mine if r["best"] is not None]
        sd = statistics.stdev(bests) if len(bests) > 1 else 0.0
        mean_seconds[jobs] = statistics.mean(r["seconds"] for r in mine)
        mean_best = f"{statistics.mean(bests):.4f}" if bests else "-"
        print(
            f"{jobs:>7} {mean_best:>9} {sd:>8.4f} {sum(r['twins'] for r in mine):>5} "
            f"{mean_seconds[jobs]:>7.1f}"
        )
    ratio = mean_seconds[args.jobs] / mean_seconds[1]
    print(
        f"\nwall time, {args.jobs} workers / 1 worker: {ratio:.2f} "
        f"(speed-up {1 / ratio:.2f}x on {cores} cores; load average now "
        f"{os.getloadavg()[0]:.1f})"
    )
    found = sum(r["twins"] for r in rows)
    if found:
        raise SystemExit(f"{found} twin trial(s): parallel workers proposed the same parameters")


if __name__ == "__main__":
    main()
