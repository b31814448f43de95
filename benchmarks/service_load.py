"""Latency of the HTTP API under load: 50 concurrent clients against a real `pcsearch api`.

A throwaway Postgres database is created (and dropped at the end) and filled with 100
pcsearch studies and 10,000 trials: the studies through store.studies, the trials
bulk-inserted into Optuna's own tables (params, values and user attributes as workers
write them), then ANALYZEd as autovacuum would. `pcsearch api` runs as a subprocess; N
client threads (httpx, one connection each, spread over two processes) each send their
next request as soon as the last one is answered, for a fixed time:
  GET /api/v1/studies (a page of 50 summaries) and GET /api/v1/studies/{name}, half each,
  and POST /api/v1/studies for --post-share of the requests (default 1%).
Prints p50/p99 latency per route and requests per second. The clients share the machine
with the server and Postgres, so the figures include the load generator's own cost.

    .venv/bin/python benchmarks/service_load.py [--studies 100] [--trials 10000]
        [--clients 50] [--seconds 20] [--workers 2] [--post-share 0.01]
        [--admin-url postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import optuna  # noqa: E402
import sqlalchemy  # noqa: E402
from optuna.distributions import distribution_to_json  # noqa: E402
from optuna.storages._rdb import models  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from search_spaces import default_space  # noqa: E402
from store import attrs, studies  # noqa: E402
from store.config import StudyConfig  # noqa: E402
from store.storage import open_storage  # noqa: E402

TOKEN = "benchmark-token"
TASK, ALGORITHM = "mlp-digits", "pc-se"
STATES = (
    [TrialState.COMPLETE] * 14 + [TrialState.PRUNED] * 3 + [TrialState.FAIL, TrialState.RUNNING]
)


def create_database(admin_url: str) -> tuple[str, sqlalchemy.engine.Engine]:
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"pcsearch_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.engine.make_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False), admin


def drop_database(admin: sqlalchemy.engine.Engine, url: str) -> None:
    name = sqlalchemy.engine.make_url(url).database
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fill(url: str, n_studies: int, n_trials: int, seed: int = 0) -> list[str]:
    """``n_studies`` pcsearch studies sharing ``n_trials`` trials; returns their names."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(url)
    space = default_space(TASK, ALGORITHM)
    config = StudyConfig(
        task=TASK, algorithm=ALGORITHM, space=space.to_dict(), n_trials=200, overrides={"epochs": 5}
    )
    names = [f"bench-{i:04d}" for i in range(n_studies)]
    ids = [studies.create(storage, name, config)._study_id for name in names]
    distributions = space.distributions(ALGORITHM)
    as_json = {n: distribution_to_json(d) for n, d in distributions.items()}
    rng = random.Random(seed)
    trials, values, params, user_attrs = [], [], [], []
    first_id = 1  # a fresh database
    numbers: dict[int, int] = defaultdict(int)
    for i in range(n_trials):
        trial_id, study_id = first_id + i, ids[i % n_studies]
        state = rng.choice(STATES)
        trials.append(
            {
                "trial_id": trial_id,
                "number": numbers[study_id],
                "study_id": study_id,
                "state": state,
                "datetime_start": None,
                "datetime_complete": None,
            }
        )
        numbers[study_id] += 1
        curve = [round(rng.uniform(0.5, 0.99), 4) for _ in range(rng.randint(1, 5))]
        if state == TrialState.COMPLETE:
            values.append(
                {
                    "trial_id": trial_id,
                    "objective": 0,
                    "value": curve[-1],
                    "value_type": models.TrialValueModel.TrialValueType.FINITE,
                }
            )
        for name, distribution in distributions.items():
            value = _sample(rng, distribution)
            params.append(
                {
                    "trial_id": trial_id,
                    "param_name": name,
                    "param_value": distribution.to_internal_repr(value),
                    "distribution_json": as_json[name],
                }
            )
        for key, value in (
            (attrs.EPOCH_VALUES, curve),
            (attrs.ENERGY_PER_LAYER, [[rng.random() for _ in range(3)] for _ in curve]),
            (attrs.WORKER, f"host-{i % 7}:{1000 + i % 13}"),
            (attrs.RUN_STATUS, "completed" if state == TrialState.COMPLETE else "diverged"),
        ):
            user_attrs.append({"trial_id": trial_id, "key": key, "value_json": json.dumps(value)})
    engine = storage.engine
    with engine.begin() as conn:
        conn.execute(models.TrialModel.__table__.insert(), trials)
        conn.execute(models.TrialValueModel.__table__.insert(), values)
        conn.execute(models.TrialParamModel.__table__.insert(), params)
        conn.execute(models.TrialUserAttributeModel.__table__.insert(), user_attrs)
        conn.execute(
            sqlalchemy.text(
                "UPDATE trials SET datetime_start = now() - (trial_id || ' minutes')::interval"
            )
        )
        conn.execute(
            sqlalchemy.text(
                "UPDATE trials SET datetime_complete = datetime_start + interval '30 seconds' "
                "WHERE state <> 'RUNNING'"
            )
        )
        conn.execute(
            sqlalchemy.text(
                "SELECT setval('trials_trial_id_seq', (SELECT max(trial_id) FROM trials))"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sqlalchemy.text("ANALYZE"))  # as autovacuum would after a bulk load
    engine.dispose()
    return names


def _sample(rng: random.Random, distribution: Any) -> Any:
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return rng.choice(distribution.choices)
    if isinstance(distribution, optuna.distributions.IntDistribution):
        return rng.randint(distribution.low, distribution.high)
    return rng.uniform(distribution.low, distribution.high)


def start_api(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = os.environ | {"PCSEARCH_DATABASE_URL": url, "PCSEARCH_API_TOKENS": TOKEN}
    exe = str(Path(sys.executable).with_name("pcsearch"))
    command = [exe, "api", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    with open(log, "w") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise SystemExit(f"pcsearch api exited:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("pcsearch api did not become ready within 60 s")


def load(
    base: str,
    names: list[str],
    clients: int,
    seconds: float,
    seed: int,
    post_share: float,
    processes: int = 1,
) -> dict:
    """Closed-loop clients, one thread and one httpx.Client (connection) each, spread over
    ``processes`` processes, for ``seconds`` after a short warm-up; latencies by route.

    Threads with their own clients, not one shared httpx.AsyncClient: with 50 concurrent
    requests the shared async pool itself becomes the bottleneck (about 180 requests/s
    here against 870 for threads on /healthz), which would measure httpx, not the API.
    Several processes, so that a reply is not timed late because the client thread that
    waits for it waits for its own process's GIL first.
    """
    warm_until = time.monotonic() + 2.0
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    jobs = [
        (base, names, n, warm_until, warm_until + seconds, seed * 100 + i, post_share)
        for i, n in enumerate(shares)
        if n
    ]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        parts = pool.starmap(_clients, jobs)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for part_latencies, part_errors in parts:
        for kind, values in part_latencies.items():
            latencies[kind] += values
            errors[kind] += part_errors.get(kind, 0)
    return {"latencies": latencies, "errors": errors, "seconds": seconds}


def _clients(
    base: str,
    names: list[str],
    clients: int,
    warm_until: float,
    stop_at: float,
    seed: int,
    post_share: float,
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """One process's share of the clients (threads); latencies and errors by route."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    kinds = ("list", "detail", "create")
    weights = ((1 - post_share) / 2, (1 - post_share) / 2, post_share)
    body = {"task": TASK, "algorithm": ALGORITHM, "n_trials": 20, "epochs": 3}

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        mine: dict[str, list[float]] = defaultdict(list)
        failed: dict[str, int] = defaultdict(int)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            while (now := time.monotonic()) < stop_at:
                kind = rng.choices(kinds, weights)[0]
                if kind == "list":
                    response = http.get("/api/v1/studies", params={"limit": 50})
                elif kind == "detail":
                    response = http.get(f"/api/v1/studies/{rng.choice(names)}")
                else:
                    response = http.post("/api/v1/studies", json=body)
                if now >= warm_until:
                    mine[kind].append(time.monotonic() - now)
                    failed[kind] += response.status_code >= 300
        with lock:
            for kind, values in mine.items():
                latencies[kind] += values
                errors[kind] += failed[kind]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(latencies), dict(errors)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(result: dict, args: argparse.Namespace) -> dict:
    latencies, seconds = result["latencies"], result["seconds"]
    total = sum(len(v) for v in latencies.values())
    rows = {}
    for kind, route in (
        ("list", "GET /studies"),
        ("detail", "GET /studies/{name}"),
        ("create", "POST /studies"),
    ):
        values = latencies.get(kind, [])
        if not values:
            continue
        rows[route] = {
            "requests": len(values),
            "errors": result["errors"].get(kind, 0),
            "p50_ms": 1000 * statistics.median(values),
            "p99_ms": 1000 * percentile(values, 0.99),
        }
    summary = {"requests_per_second": total / seconds, "routes": rows, "database": args.database}
    print(f"machine: {describe()}")
    print(
        f"data: {args.studies} studies, {args.trials} trials; {args.clients} clients for "
        f"{args.seconds:g} s, {args.post_share:.0%} of requests POST; pcsearch api --workers "
        f"{args.workers}"
    )
    print(f"{'route':<22}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for route, row in rows.items():
        print(
            f"{route:<22}{row['requests']:>10}{row['errors']:>8}{row['p50_ms']:>10.1f}"
            f"{row['p99_ms']:>10.1f}"
        )
    print(f"throughput: {summary['requests_per_second']:.0f} requests/s")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=100)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="pcsearch api processes (1 serves best on 2 cores)"
    )
    parser.add_argument(
        "--post-share",
        type=float,
        default=0.01,
        help="fraction of requests that create a study (the rest read, half lists, half one "
        "study); default 0.01, about 8 new studies a second here",
    )
    parser.add_argument(
        "--client-processes", type=int, default=2, help="processes the client threads run in"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--admin-url",
        default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        help="a Postgres URL allowed to create and drop databases",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    url, admin = create_database(args.admin_url)
    args.database = sqlalchemy.engine.make_url(url).database
    print(f"database {args.database} (dropped at the end)", file=sys.stderr)
    process = None
    try:
        started = time.monotonic()
        names = fill(url, args.studies, args.trials, args.seed)
        print(f"filled in {time.monotonic() - started:.1f} s", file=sys.stderr)
        port = _free_port()
        with tempfile.TemporaryDirectory() as tmp:
            process = start_api(url, port, args.workers, Path(tmp) / "api.log")
            base = f"http://127.0.0.1:{port}"
            result = load(
                base,
                names,
                args.clients,
                args.seconds,
                args.seed,
                args.post_share,
                args.client_processes,
            )
            summary = report(result, args)
            process.terminate()
            process.wait(timeout=30)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        drop_database(admin, url)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
