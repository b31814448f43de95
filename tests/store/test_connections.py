"""A worker's database connections: few of them, and a fleet larger than the database
allows waits for a free connection instead of exiting.

Real ``pcsearch worker`` processes on the machine's Postgres with dry-run trials. A role
with a small ``CONNECTION LIMIT`` stands in for a server with ``max_connections`` reached:
Postgres refuses both with SQLSTATE 53300 ("too many connections for role ...", "sorry,
too many clients already").
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from store import storage as storage_module
from store.connections import WORKER_CONNECTIONS
from store.resilience import OUTAGES
from store.storage import open_storage
from tests.conftest import POSTGRES, _admin, database
from tests.workers.fleet import (
    FINISHED,
    assert_study_complete,
    fleet,
    make_study,
    owner_pid,
    trials_of,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]
DRY = {"PCSEARCH_WORKER_DRY_RUN": "1", "PCSEARCH_DRY_RUN_EPOCH_SECONDS": "0.25"}
FAST = {"PCSEARCH_DB_IDLE_SECONDS": "0.5", "PCSEARCH_CONNECT_RETRY_MAX_SECONDS": "1"}
WAITING = "cannot connect to storage"
TOO_MANY = "too many connections for role"


@dataclass
class Role:
    name: str
    url: str
    """The database as this role (limited)."""
    admin_url: str
    """The same database as the superuser (not counted against the limit)."""


@pytest.fixture
def limited_role(postgres_url: str) -> Iterator[Role]:
    """A login role allowed 2 workers' worth of connections, owning a database of its own."""
    name = f"pcsearch_limited_{secrets.token_hex(4)}"
    limit = 2 * WORKER_CONNECTIONS
    _admin(lambda cur: cur.execute(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT {limit}'))
    try:
        with database() as admin_url:
            db = admin_url.rsplit("/", 1)[1]
            _admin(lambda cur: cur.execute(f'ALTER DATABASE "{db}" OWNER TO "{name}"'))
            yield Role(name, admin_url.replace("//postgres@", f"//{name}@"), admin_url)
    finally:
        _admin(lambda cur: cur.execute(f'DROP ROLE IF EXISTS "{name}"'))


def sql(query: str, *args: object) -> list[tuple]:
    conn = psycopg2.connect(dbname="postgres", **POSTGRES)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def connections_of_role(role: str) -> int:
    return sql("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", role)[0][0]


def connections_of_pid(pid: int) -> list[str]:
    """The application names of the connections a worker process holds."""
    rows = sql(
        "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s",
        f"pcsearch worker {pid}%",
    )
    return [r[0] for r in rows if re.fullmatch(rf"pcsearch worker {pid}( lock)?", r[0])]


def finished(url: str, name: str) -> int:
    return sum(t.state in FINISHED for t in trials_of(url, name))


def make_study_as(role: Role, name: str, n_trials: int, epochs: int) -> None:
    """The study (and the schema, owned by the role), then no connection of the role left."""
    study = make_study(role.url, name, n_trials=n_trials, epochs=epochs)
    study._storage.engine.dispose()
    storage_module.dispose_engines()
    wait_until(lambda: connections_of_role(role.name) == 0, 10, "the test's connections gone")


def test_workers_beyond_a_connection_limit_wait_then_work(
    limited_role: Role, pcsearch_exe: str, tmp_path: Path
) -> None:
    """Five workers, room for two: the others wait (one log line each, however many
    attempts), none exits; once the limit is raised every one of them works."""
    make_study_as(limited_role, "crowd", n_trials=36, epochs=2)
    with fleet(pcsearch_exe, tmp_path, limited_role.url, **DRY, **FAST) as f:
        for i in range(5):
            f.start("--study", "crowd", "--until-done", "--seed", str(i), "--poll", "0.2")
        wait_until(
            lambda: any(TOO_MANY in log.read_text() for log in f.logs), 60, "a refused worker"
        )
        wait_until(lambda: finished(limited_role.admin_url, "crowd") >= 4, 60, "work in the limit")
        time.sleep(3)  # several attempts of the waiting workers
        assert all(p.poll() is None for p in f.processes), f.output()
        assert finished(limited_role.admin_url, "crowd") < 24, "no room left to test waiting"
        _admin(lambda cur: cur.execute(f'ALTER ROLE "{limited_role.name}" CONNECTION LIMIT -1'))
        codes = f.wait(timeout=120)
        logs = [log.read_text() for log in f.logs]
        output = f.output()
    assert codes == [0] * 5, output
    trials = assert_study_complete(limited_role.admin_url, "crowd", 36)
    owners = {owner_pid(t) for t in trials if t.state in FINISHED}
    assert owners == {p.pid for p in f.processes}, (owners, output)
    waited = [log for log in logs if WAITING in log]
    assert waited, output
    for log in waited:
        lines = [ln for ln in log.splitlines() if WAITING in ln]
        assert len(lines) == 1 and TOO_MANY in lines[0], lines
        assert "connected to storage" in log, log
    seconds = [
        float(s)
        for log in waited
        for s in re.findall(r"connected to storage .* after ([\d.]+) s", log)
    ]
    assert max(seconds) >= 3, seconds  # several attempts (0.5 s, then 1 s apart), one line
    assert "Traceback" not in output, output


def test_a_worker_holds_at_most_two_connections_and_none_when_idle(
    fresh_database: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    """Working: one storage connection (its threads take turns) and one for the slot lock.
    Waiting for work longer than PCSEARCH_DB_IDLE_SECONDS: none between its looks."""
    postgres_url = fresh_database  # a service worker serves every study: none of others'
    make_study(postgres_url, "connection-budget", n_trials=6, epochs=2)
    storage_module.dispose_engines()
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY, **FAST) as f:
        worker = f.start("--study", "connection-budget", "--until-done", "--poll", "0.2")
        wait_until(lambda: trials_of(postgres_url, "connection-budget"), 60, "the first claim")
        working = []
        while worker.poll() is None:
            working.append(connections_of_pid(worker.pid))
            time.sleep(0.01)
        assert worker.returncode == 0, f.output()
        idle = f.start("--poll", "1.5")  # a service worker; the only study is done
        wait_until(lambda: connections_of_pid(idle.pid), 60, "an idle worker's first look")
        waiting, until = [], time.monotonic() + 3.5  # more than two looks, 1.5 s apart
        while time.monotonic() < until:
            waiting.append(connections_of_pid(idle.pid))
            time.sleep(0.02)
        assert idle.poll() is None, f.output()
    assert assert_study_complete(postgres_url, "connection-budget", 6)
    storage_conns = [names.count(f"pcsearch worker {worker.pid}") for names in working]
    lock_conns = [names.count(f"pcsearch worker {worker.pid} lock") for names in working]
    assert max(map(len, working)) <= WORKER_CONNECTIONS, working
    assert max(storage_conns) == 1 and max(lock_conns) == 1, working  # both seen, never two
    assert max(map(len, waiting)) <= WORKER_CONNECTIONS, waiting
    assert min(map(len, waiting)) == 0 and max(map(len, waiting)) >= 1, waiting


@pytest.mark.parametrize(
    ("user", "db", "needle"),
    [
        ("nobody", "postgres", 'role "nobody" does not exist'),
        ("postgres", "no_such_db", 'database "no_such_db" does not exist'),
        ("postgres", None, "malformed"),
    ],
)
def test_wrong_credentials_or_database_end_a_worker_at_once(
    run_main: Callable[..., subprocess.CompletedProcess],
    postgres_url: str,
    tmp_path: Path,
    user: str,
    db: str | None,
    needle: str,
) -> None:
    """Permanent problems are not waited for, whatever the command's connect timeout (the
    command runs in this process: its exit code and message are what is tested)."""
    host = f"{POSTGRES['host']}:{POSTGRES['port']}" if db else f"{POSTGRES['host']}:notaport"
    url = f"postgresql+psycopg2://{user}@{host}/{db or 'postgres'}"
    env = {"PCSEARCH_CONNECT_TIMEOUT_SECONDS": "600", "PCSEARCH_WORKER_STATE_DIR": str(tmp_path)}
    done = run_main("worker", "--storage", url, env=env)
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, done.stdout, err)
    assert len(err.splitlines()) == 1 and "cannot open storage" in err and needle in err, err
    assert WAITING not in err and "Traceback" not in err, err


@contextlib.contextmanager
def forwarder(port: int, target: tuple[str, int]) -> Iterator[None]:
    """A TCP port that forwards to ``target``: the database "comes up" on ``port``."""
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(0.2)
    stop = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_waits_for_a_database_that_is_not_up_yet(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    """Connection refused is a database still starting: the worker waits (one line), then
    works once it answers."""
    make_study(postgres_url, "later", n_trials=3, epochs=1)
    port = free_port()
    late_url = postgres_url.replace(f":{POSTGRES['port']}/", f":{port}/")
    with fleet(pcsearch_exe, tmp_path, late_url, **DRY, **FAST) as f:
        worker = f.start("--study", "later", "--until-done", "--poll", "0.2")
        wait_until(lambda: WAITING in f.logs[0].read_text(), 60, "the worker to wait")
        time.sleep(3)  # several refused attempts
        assert worker.poll() is None, f.output()
        with forwarder(port, (POSTGRES["host"], POSTGRES["port"])):
            code = worker.wait(timeout=90)
        log = f.logs[0].read_text()
    assert code == 0, log
    lines = [ln for ln in log.splitlines() if WAITING in ln]
    assert len(lines) == 1 and "refused" in lines[0].lower(), log
    assert "connected to storage" in log, log
    assert_study_complete(postgres_url, "later", 3)


def test_a_storage_call_refused_a_connection_waits_for_one(
    limited_role: Role, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection lost later (here: closed when idle) and refused on reconnect for want
    of a free one is an outage like any other: the call waits and then succeeds."""
    make_study_as(limited_role, "reconnect", n_trials=1, epochs=1)
    storage = open_storage(limited_role.url, worker=True)
    storage.get_all_studies()
    storage.engine.dispose()
    storage_module.dispose_engines()
    wait_until(lambda: connections_of_role(limited_role.name) == 0, 10, "no connection left")
    hogs = [
        psycopg2.connect(dbname=limited_role.admin_url.rsplit("/", 1)[1], **{
            **POSTGRES, "user": limited_role.name
        })
        for _ in range(2 * WORKER_CONNECTIONS)
    ]  # fmt: skip
    result: list[object] = []
    call = threading.Thread(target=lambda: result.append(storage.get_all_studies()))
    try:
        with caplog.at_level(logging.WARNING, logger="pcsearch.storage"):
            call.start()
            time.sleep(2.0)
            assert call.is_alive() and not result, "the call did not wait for a connection"
            hogs.pop().close()
            call.join(30)
    finally:
        for hog in hogs:
            hog.close()
        OUTAGES.succeeded()
    assert [s.study_name for s in result[0]] == ["reconnect"]
    refused = [r for r in caplog.records if "storage unreachable" in r.getMessage()]
    assert len(refused) == 1 and TOO_MANY in refused[0].getMessage(), caplog.text
    storage.engine.dispose()
