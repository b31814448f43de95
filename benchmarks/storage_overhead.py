"""What the storage itself costs, and what a fleet of workers asks of Postgres.

Real `pcsearch worker` processes (1, 4, 16, 48 and 96, one layout after the other) on a
fresh study in a throwaway database, random sampler, one epoch a trial (``--epochs``,
``--epoch-seconds`` for a fleet that spends its time training), dry-run trainer
(``PCSEARCH_WORKER_DRY_RUN=1``: each trial is claimed, leased, reported, heartbeaten and
told exactly as usual, only the training is skipped). The workers log in as a throwaway
role that owns the database and is not a superuser, as in docker-compose.yml (so the
server's ``superuser_reserved_connections`` are not theirs).

Per layout it prints trials per second (over the whole run, process start-up included,
and from the first claim to the last tell), errors (failed trials), lost trials (finished
!= asked), workers that died (exit code not 0), workers that waited for a connection
(their log says so), the connections of the fleet (mean and peak) and of the whole server
(peak), sampled from ``pg_stat_activity`` every 0.1 s, against ``max_connections``, and
the peak memory of a worker (RSS) and of the whole fleet (PSS, shared pages counted once).

Up to 96 workers take most of a server's connections: point ``--url`` at a server of its
own, not one that others are using.

Target on a 2-core machine: no errors, no lost trial, no worker died, >= 10 finished
trials/s with 16.

    .venv/bin/python benchmarks/storage_overhead.py [--trials 400] [--layouts 1,4,16,48,96]
        [--url postgresql+psycopg2://postgres@127.0.0.1/postgres] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy  # noqa: E402
from optuna.trial import TrialState  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from search_spaces import default_space  # noqa: E402
from store import studies  # noqa: E402
from store.config import StudyConfig  # noqa: E402
from store.storage import dispose_engines, open_storage  # noqa: E402
from workers.local import worker_command  # noqa: E402

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
WAITED = ("cannot connect to storage", "storage unreachable")
"""What a worker logs when it has to wait for a connection (once per problem or outage)."""


def _admin_engine(url: str) -> sqlalchemy.engine.Engine:
    return sqlalchemy.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool
    )


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[tuple[str, str, str]]:
    """A database owned by a new login role; yields (role, its URL, the admin's URL of
    the database). Both are dropped afterwards."""
    token = secrets.token_hex(4)
    name, role = f"pcsearch_bench_{token}", f"pcsearch_bench_{token}"
    admin = _admin_engine(admin_url)
    with admin.connect() as c:
        c.execute(sqlalchemy.text(f'CREATE ROLE "{role}" LOGIN'))
        c.execute(sqlalchemy.text(f'CREATE DATABASE "{name}" OWNER "{role}"'))
    base = make_url(admin_url).set(database=name)
    try:
        yield (
            role,
            base.set(username=role, password=None).render_as_string(hide_password=False),
            base.render_as_string(hide_password=False),
        )
    finally:
        dispose_engines()
        with admin.connect() as c:
            c.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sqlalchemy.text(f'DROP ROLE IF EXISTS "{role}"'))


class Sampler:
    """Peak connections (the fleet's role, the whole server) and worker memory, sampled in
    a thread while a layout runs."""

    def __init__(self, admin_url: str, role: str, pids: Callable[[], list[int]]) -> None:
        self.engine, self.role, self.pids = _admin_engine(admin_url), role, pids
        self.fleet = self.server = 0
        self.samples: list[int] = []
        """The fleet's connections, one count per 0.1 s."""
        self.rss_mb = self.pss_mb = 0.0
        self.jax = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = sqlalchemy.text(
            "SELECT count(*) FILTER (WHERE usename = :role), "
            "count(*) FILTER (WHERE backend_type = 'client backend') "
            "FROM pg_stat_activity"
        )  # the server's count includes this sampler's own connection
        with self.engine.connect() as conn:
            tick = 0
            while not self._stop.wait(0.1):
                fleet, server = conn.execute(query, {"role": self.role}).one()
                self.fleet, self.server = max(self.fleet, fleet), max(self.server, server)
                self.samples.append(fleet)
                tick += 1
                if tick % 10 == 1:
                    self._memory()

    def _memory(self) -> None:
        rss, pss = 0.0, 0.0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                if not self.jax:
                    self.jax = "jaxlib" in Path(f"/proc/{pid}/maps").read_text()
            except OSError:  # ended meanwhile
                continue
            rss = max(rss, _kb(status, "VmRSS:") / 1024)
            pss += _kb(rollup, "Pss:") / 1024
        self.rss_mb, self.pss_mb = max(self.rss_mb, rss), max(self.pss_mb, pss)


def _kb(text: str, field: str) -> float:
    for line in text.splitlines():
        if line.startswith(field):
            return float(line.split()[1])
    return 0.0


def run_layout(
    role_url: str,
    admin_url: str,
    role: str,
    workers: int,
    args: argparse.Namespace,
    logs: Path,
) -> dict:
    trials = args.trials
    name = f"overhead-{workers}"
    space = default_space("mlp-two-moons", "pc-se").to_dict()
    config = StudyConfig(
        task="mlp-two-moons",
        algorithm="pc-se",
        space=space,
        n_trials=trials,
        sampler="random",
        pruner="none",
        overrides={"epochs": args.epochs},
    )
    made = open_storage(role_url)  # as the role: it owns the tables
    studies.create(made, name, config)
    made.engine.dispose()
    dispose_engines()
    env = {
        **os.environ,
        "PCSEARCH_DATABASE_URL": role_url,
        "PCSEARCH_WORKER_DRY_RUN": "1",
        "PCSEARCH_DRY_RUN_EPOCH_SECONDS": str(args.epoch_seconds),
    }
    processes: list[subprocess.Popen] = []
    with Sampler(admin_url, role, lambda: [p.pid for p in processes]) as sampler:
        start = time.perf_counter()
        try:
            for i in range(workers):
                log = open(logs / f"{name}-{i}.log", "w")  # noqa: SIM115 - the child owns it
                flags = ["--study", name, "--until-done", "--seed", str(i), "--poll", "0.2"]
                processes.append(
                    subprocess.Popen(
                        worker_command(*flags), env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
                log.close()
            codes = _wait(processes, start + args.limit)
        finally:  # never leave workers behind, whatever went wrong here
            for p in processes:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        seconds = time.perf_counter() - start
    storage = open_storage(admin_url)
    all_trials = storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False)
    storage.engine.dispose()
    finished = sum(t.state in FINISHED for t in all_trials)
    failed = sum(t.state == TrialState.FAIL for t in all_trials)
    started = [t.datetime_start for t in all_trials if t.datetime_start]
    ended = [t.datetime_complete for t in all_trials if t.datetime_complete]
    steady = (max(ended) - min(started)).total_seconds() if started and ended else 0.0
    texts = [(logs / f"{name}-{i}.log").read_text() for i in range(workers)]
    with _admin_engine(admin_url).connect() as conn:
        max_connections = int(conn.execute(sqlalchemy.text("SHOW max_connections")).scalar())
    return {
        "workers": workers,
        "trials": trials,
        "seconds": seconds,
        "per_second": finished / seconds,
        "steady_per_second": finished / steady if steady else 0.0,
        "errors": failed,
        "lost": trials - finished,
        "died": sum(code != 0 for code in codes),
        "waited": sum(any(w in text for w in WAITED) for text in texts),
        "peak_fleet_connections": sampler.fleet,
        "mean_fleet_connections": sum(sampler.samples) / max(1, len(sampler.samples)),
        "fleet_connections_every_100ms": sampler.samples,
        "peak_server_connections": sampler.server,
        "max_connections": max_connections,
        "peak_worker_rss_mb": sampler.rss_mb,
        "peak_fleet_pss_mb": sampler.pss_mb,
        "jax_loaded": sampler.jax,
    }


def _wait(processes: list[subprocess.Popen], give_up: float) -> list[int]:
    """Exit codes; a worker still running at ``give_up`` is stopped and counts as died."""
    codes = []
    for p in processes:
        try:
            codes.append(p.wait(timeout=max(0.1, give_up - time.perf_counter())))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=400, help="trials per layout")
    parser.add_argument("--layouts", default="1,4,16,48,96", help="worker counts, comma-separated")
    parser.add_argument("--url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per trial")
    parser.add_argument(
        "--epoch-seconds",
        type=float,
        default=0.0,
        help="how long a dry-run epoch lasts (0: none; e.g. 10 for a fleet that trains)",
    )
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per layout at most")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (workers, database)
    print(
        f"# storage overhead on {describe()}; PostgreSQL, dry-run trials of {args.epochs} "
        f"epoch(s) of {args.epoch_seconds:g} s, random sampler"
    )
    print(
        "| workers | trials | seconds, start-up included | finished trials/s | "
        "trials/s, first claim to last tell | errors | lost | workers died | "
        "workers waited | connections: fleet mean, fleet peak, server peak / max_connections | "
        "peak MB per worker (RSS) | fleet MB (PSS) |"
    )
    print("| --- " * 12 + "|")
    rows = []
    with throwaway_database(args.url) as (role, role_url, admin_url):
        with tempfile.TemporaryDirectory() as tmp:
            for workers in (int(n) for n in args.layouts.split(",")):
                r = run_layout(role_url, admin_url, role, workers, args, Path(tmp))
                rows.append(r)
                print(
                    f"| {r['workers']} | {r['trials']} | {r['seconds']:.1f} | "
                    f"{r['per_second']:.1f} | {r['steady_per_second']:.1f} | {r['errors']} | "
                    f"{r['lost']} | {r['died']} | {r['waited']} | "
                    f"{r['mean_fleet_connections']:.0f}, {r['peak_fleet_connections']}, "
                    f"{r['peak_server_connections']} / "
                    f"{r['max_connections']} | {r['peak_worker_rss_mb']:.0f} | "
                    f"{r['peak_fleet_pss_mb']:.0f} |",
                    flush=True,
                )
        database = make_url(admin_url).database
    print(
        f"# JAX loaded by a dry-run worker: {'yes' if any(r['jax_loaded'] for r in rows) else 'no'}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"database": database, "role": role, "rows": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
