"""What the storage itself costs: finished trials per second with trials that do no training.

Real `pcsearch worker` processes (1, 4 and 16, one layout after the other) on a fresh study
in a throwaway PostgreSQL database, random sampler, one epoch a trial, dry-run trainer
(``PCSEARCH_WORKER_DRY_RUN=1``: each trial is claimed, leased, reported, heartbeaten and
told exactly as usual, only the training is skipped). Prints trials per second (over the
whole run, process start-up included, and from the first claim to the last tell), errors
(failed trials, workers that did not exit 0) and lost trials (finished != asked).

Target on a 2-core machine: no errors, no lost trial, >= 10 finished trials/s with 16.

    .venv/bin/python benchmarks/storage_overhead.py [--trials 400] [--url postgresql+psycopg2://postgres@127.0.0.1/postgres]
"""  # noqa: E501

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from search_spaces import default_space  # noqa: E402
from workers import studies  # noqa: E402
from workers.config import StudyConfig  # noqa: E402
from workers.local import worker_command  # noqa: E402
from workers.storage import dispose_engines, open_storage  # noqa: E402

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def throwaway_database(admin_url: str) -> tuple[str, callable]:
    name = f"pcsearch_bench_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        dispose_engines()
        with admin.connect() as c:
            c.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def run_layout(url: str, workers: int, trials: int, logs: Path) -> dict:
    name = f"overhead-{workers}"
    space = default_space("mlp-two-moons", "pc-se").to_dict()
    config = StudyConfig(
        task="mlp-two-moons",
        algorithm="pc-se",
        space=space,
        n_trials=trials,
        sampler="random",
        pruner="none",
        overrides={"epochs": 1},
    )
    storage = open_storage(url)
    studies.create(storage, name, config)
    env = {**os.environ, "PCSEARCH_DATABASE_URL": url, "PCSEARCH_WORKER_DRY_RUN": "1"}
    start = time.perf_counter()
    processes = []
    for i in range(workers):
        log = open(logs / f"{name}-{i}.log", "w")  # noqa: SIM115 - the child owns it
        args = ["--study", name, "--until-done", "--seed", str(i), "--poll", "0.2"]
        processes.append(
            subprocess.Popen(worker_command(*args), env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        log.close()
    codes = [p.wait() for p in processes]
    seconds = time.perf_counter() - start
    all_trials = storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False)
    finished = sum(t.state in FINISHED for t in all_trials)
    failed = sum(t.state == TrialState.FAIL for t in all_trials)
    first = min(t.datetime_start for t in all_trials)
    last = max(t.datetime_complete for t in all_trials if t.datetime_complete)
    steady = (last - first).total_seconds()
    return {
        "workers": workers,
        "trials": trials,
        "seconds": seconds,
        "per_second": finished / seconds,
        "steady_per_second": finished / steady,
        "errors": failed + sum(code != 0 for code in codes),
        "lost": trials - finished,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=400, help="trials per layout")
    parser.add_argument("--layouts", default="1,4,16", help="worker counts, comma-separated")
    parser.add_argument("--url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url, drop = throwaway_database(args.url)
    print(f"# storage overhead on {describe()}; PostgreSQL, dry-run trials, random sampler")
    print(
        "| workers | trials | seconds, start-up included | finished trials/s | "
        "trials/s, first claim to last tell | errors | lost |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in (int(n) for n in args.layouts.split(",")):
                r = run_layout(url, workers, args.trials, Path(tmp))
                print(
                    f"| {r['workers']} | {r['trials']} | {r['seconds']:.1f} | "
                    f"{r['per_second']:.1f} | {r['steady_per_second']:.1f} | {r['errors']} | "
                    f"{r['lost']} |",
                    flush=True,
                )
    finally:
        drop()


if __name__ == "__main__":
    main()
