"""``pcsearch dashboard``: optuna-dashboard served on pcsearch's storage, run as a real
process, read through its own JSON API and in a real browser: what it shows of a study,
and whom it answers (local addresses only, and only its own Host names)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.browser import rendered_dom
from tests.cli.conftest import RunCli

pytestmark = pytest.mark.timeout(180)

PASSWORD = "not-shown-" + secrets.token_hex(4)
"""Postgres here trusts every local connection, so any password works: it only has to
never appear in what the command prints or in its command line."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_study(url: str, name: str) -> dict[str, str]:
    """A pcsearch study, made the way every shell makes one; the attrs it should show:
    a one-line description and flat copies, nothing else (no config, no control flag)."""
    from search_spaces import default_space
    from store import studies
    from store.config import StudyConfig
    from store.storage import open_storage

    space = default_space("mlp-two-moons", "pc-se")
    config = StudyConfig(task="mlp-two-moons", algorithm="pc-se", space=space.to_dict(), n_trials=4)
    studies.create(open_storage(url), name, config)
    line = f"pc-se on mlp-two-moons, 4 trials, TPE, space {space.ref}, seed 0"
    return {"pcsearch": line, "task": "mlp-two-moons", "algorithm": "pc-se", "space": space.ref}


@dataclass
class Dashboard:
    process: subprocess.Popen
    url: str
    out: Path
    err: Path

    def output(self) -> str:
        return f"--- stdout\n{self.out.read_text()}--- stderr\n{self.err.read_text()}"

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return response.read()

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"dashboard ignored {signum!r} for {timeout:g} s") from None


def start(
    exe: str, folder: Path, *args: str, env: dict[str, str] | None = None, wait: float = 60.0
) -> Dashboard:
    """Start ``pcsearch dashboard`` and return once its API answers."""
    port = free_port()
    out, err = folder / "dashboard.out", folder / "dashboard.err"
    process = subprocess.Popen(
        [exe, "dashboard", "--port", str(port), *args],
        cwd=folder,
        env=env if env is not None else _env(),
        stdout=out.open("w"),
        stderr=err.open("w"),
    )
    dashboard = Dashboard(process, f"http://127.0.0.1:{port}", out, err)
    give_up = time.monotonic() + wait
    while True:
        if process.poll() is not None:
            raise AssertionError(
                f"dashboard exited with {process.returncode}\n{dashboard.output()}"
            )
        try:
            dashboard.get("/api/meta")
            return dashboard
        except OSError as error:
            if time.monotonic() > give_up:
                dashboard.stop(signal.SIGKILL)
                raise AssertionError(f"not up in {wait:g} s\n{dashboard.output()}") from error
            time.sleep(0.2)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PCSEARCH_DATABASE_URL"}
    return env | extra


# --- on Postgres, as the service runs it ----------------------------------------------------


@pytest.fixture(scope="module")
def pg_study(postgres_url: str) -> tuple[str, dict[str, str]]:
    name = f"dash-{secrets.token_hex(4)}"
    return name, make_study(postgres_url, name)


@pytest.fixture(scope="module")
def pg_dashboard(
    pcsearch_exe: str, postgres_url: str, pg_study, tmp_path_factory
) -> Iterator[Dashboard]:
    """The dashboard on the study's database, the URL (with a password) in the environment
    only, as docker-compose.yml passes it."""
    url = make_url(postgres_url).set(password=PASSWORD).render_as_string(hide_password=False)
    dashboard = start(
        pcsearch_exe, tmp_path_factory.mktemp("dash"), env=_env(PCSEARCH_DATABASE_URL=url)
    )
    yield dashboard
    if dashboard.process.poll() is None:
        dashboard.stop()


@pytest.mark.postgres
def test_api_lists_the_study_with_its_attrs(pg_dashboard: Dashboard, pg_study) -> None:
    name, expected = pg_study
    listed = json.loads(pg_dashboard.get("/api/studies"))["study_summaries"]
    found = [s for s in listed if s["study_name"] == name]
    assert len(found) == 1, f"{name} not in {[s['study_name'] for s in listed]}"
    attrs = {a["key"]: a["value"] for a in found[0]["user_attrs"]}
    assert attrs == expected
    assert found[0]["directions"] == ["maximize"]

    raw = pg_dashboard.get(f"/api/studies/{found[0]['study_id']}").decode()
    detail = json.loads(raw)
    assert detail["name"] == name
    assert {a["key"]: a["value"] for a in detail["user_attrs"]} == expected
    assert detail["objective_names"] == ["accuracy"]  # not "Objective 0"
    for internal in ("n_trials", "overrides", "pcsearch:config", "pcsearch:control"):
        assert internal not in raw, f"{internal!r} is for machines, not the dashboard"


@pytest.mark.postgres
def test_says_where_it_listens_and_never_shows_the_password(pg_dashboard: Dashboard) -> None:
    out = pg_dashboard.out.read_text()
    assert f"listening on {pg_dashboard.url}/dashboard" in out, pg_dashboard.output()
    assert "postgresql+psycopg2://postgres:***@" in out, pg_dashboard.output()
    cmdline = Path(f"/proc/{pg_dashboard.process.pid}/cmdline").read_bytes().decode()
    assert PASSWORD not in pg_dashboard.output() + cmdline


@pytest.mark.postgres
@pytest.mark.slow
def test_browser_renders_the_study(pg_dashboard: Dashboard, pg_study) -> None:
    name, _ = pg_study
    # The page the server sends is an empty shell; only its scripts can put the name there.
    assert name not in pg_dashboard.get("/dashboard").decode()
    dom = rendered_dom(pg_dashboard.url + "/dashboard", timeout=90)
    assert "Optuna Dashboard" in dom, dom[:2000]
    assert name in dom, f"{name} not in the rendered page:\n{dom[:4000]}"


# --- on a journal file: signals and bad input, no database needed ----------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stops_cleanly_on_a_signal(pcsearch_exe: str, tmp_path: Path, signum: int) -> None:
    make_study(str(tmp_path / "studies.journal"), "moons")
    dashboard = start(pcsearch_exe, tmp_path, "--storage", "studies.journal")
    assert "moons" in dashboard.get("/api/studies").decode()
    began = time.monotonic()
    assert dashboard.stop(signum) == 0, dashboard.output()
    assert time.monotonic() - began < 5, "a stop should not wait for anything"
    assert f"stopped by {signal.Signals(signum).name}" in dashboard.err.read_text()
    assert "Traceback" not in dashboard.output()


def _fails_in_one_line(run_main: RunCli, *args: str, **env: str | None) -> str:
    """Run a dashboard that must not start (in this process: only its refusal is tested);
    its one error line."""
    result = run_main("dashboard", *args, env={"PCSEARCH_DATABASE_URL": None} | env)
    report = f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 2, report
    assert "Traceback" not in result.stderr, report
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcsearch dashboard: error: "), report
    assert PASSWORD not in result.stdout + result.stderr, report
    return lines[0]


def test_unreachable_database(run_main: RunCli) -> None:
    url = f"postgresql+psycopg2://pcsearch:{PASSWORD}@127.0.0.1:1/pcsearch"
    env = {"PCSEARCH_DATABASE_URL": url, "PCSEARCH_CONNECT_TIMEOUT_SECONDS": "0"}
    line = _fails_in_one_line(run_main, **env)
    assert "pcsearch:***@127.0.0.1:1" in line and "refused" in line.lower()


def test_unsupported_url(run_main: RunCli) -> None:
    line = _fails_in_one_line(run_main, "--storage", "redis://host/0")
    assert "not supported" in line


def test_no_journal_where_it_looks(run_main: RunCli, tmp_path: Path) -> None:
    line = _fails_in_one_line(run_main)
    assert "pcsearch.journal" in line
    assert not (tmp_path / "pcsearch.journal").exists(), "it must not create an empty journal"


def test_port_in_use(run_main: RunCli, tmp_path: Path) -> None:
    make_study(str(tmp_path / "studies.journal"), "moons")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = _fails_in_one_line(run_main, "--storage", "studies.journal", "--port", port)
    assert f"127.0.0.1:{port}" in line and "--port" in line


# --- whom it answers ------------------------------------------------------------------------


def request(dashboard: Dashboard, path: str, host: str | None, method: str = "GET"):
    """``(status, body)`` of a request to the dashboard with this Host header (or none)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", int(dashboard.url.rpartition(":")[2]), timeout=10
    )
    try:
        connection.putrequest(method, path, skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_refuses_to_listen_where_others_reach_it(run_main: RunCli, host: str) -> None:
    # No storage here: the address is refused before anything is opened.
    line = _fails_in_one_line(run_main, "--host", host)
    assert f"--host {host} is not a local address" in line
    for why in ("no login", "delete and rename studies", "SSH tunnel", "--behind-auth-proxy"):
        assert why in line


def test_listens_on_every_address_behind_an_auth_proxy(pcsearch_exe: str, tmp_path: Path) -> None:
    make_study(str(tmp_path / "studies.journal"), "moons")
    dashboard = start(
        pcsearch_exe,
        tmp_path,
        *("--storage", "studies.journal", "--host", "0.0.0.0", "--behind-auth-proxy"),
    )
    port = dashboard.url.rpartition(":")[2]
    try:
        assert f"listening on http://0.0.0.0:{port}/dashboard" in dashboard.out.read_text()
        assert "no login here" in dashboard.err.read_text()
        status, body = request(dashboard, "/api/studies", f"localhost:{port}")
        assert status == 200 and b"moons" in body
        assert request(dashboard, "/api/studies", f"attacker.example:{port}")[0] == 403
    finally:
        assert dashboard.stop() == 0, dashboard.output()


def test_answers_only_its_own_host_names(pcsearch_exe: str, tmp_path: Path) -> None:
    make_study(str(tmp_path / "studies.journal"), "moons")
    dashboard = start(
        pcsearch_exe,
        tmp_path,
        *("--storage", "studies.journal", "--allowed-host", "dash.example.org"),
    )
    port = dashboard.url.rpartition(":")[2]
    try:
        # Loopback names on any port (an SSH tunnel may forward another local port),
        # and the name it was given.
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]:9000", "Dash.Example.org"):
            status, body = request(dashboard, "/api/studies", host)
            assert (status, b"moons" in body) == (200, True), (host, status, body[:200])
        # A rebinding attacker's name, however it is dressed up.
        for host in (f"attacker.example:{port}", f"localhost.attacker.example:{port}",
                     "dash.example.org.attacker.example", f"[::1]x:{port}"):  # fmt: skip
            status, body = request(dashboard, "/dashboard", host)
            assert status == 403 and b"--allowed-host" in body, (host, status, body)
        assert request(dashboard, "/api/studies", None)[0] == 400
        # Nor can such a page delete a study.
        (listed,) = json.loads(dashboard.get("/api/studies"))["study_summaries"]
        doomed = f"/api/studies/{listed['study_id']}"
        assert request(dashboard, doomed, f"attacker.example:{port}", "DELETE")[0] == 403
        assert b"moons" in dashboard.get("/api/studies")
    finally:
        assert dashboard.stop() == 0, dashboard.output()


def test_a_bad_allowed_host_is_named(run_main: RunCli) -> None:
    line = _fails_in_one_line(run_main, "--allowed-host", "https://dash.org/")
    assert "--allowed-host 'https://dash.org/' is not a host name" in line
    assert "NAME or NAME:PORT" in line


# --- studies as they run: to the end, and one made by an older pcsearch --------------------

DRY = {"PCSEARCH_WORKER_DRY_RUN": "1", "PCSEARCH_DRY_RUN_EPOCH_SECONDS": "0.05"}


def run_to_the_end(exe: str, folder: Path, url: str, name: str) -> None:
    """A real worker process, training nothing, until the study has all its trials."""
    from tests.workers.fleet import fleet

    with fleet(exe, folder, url, **DRY) as workers:
        workers.start("--study", name, "--until-done", "--poll", "0.2")
        assert workers.wait(timeout=120) == [0], workers.output()


def shown(dashboard: Dashboard, name: str) -> tuple[dict[str, str], dict]:
    """The study's user attrs as the dashboard lists them, and its detail JSON."""
    listed = json.loads(dashboard.get("/api/studies"))["study_summaries"]
    (study,) = [s for s in listed if s["study_name"] == name]
    detail = json.loads(dashboard.get(f"/api/studies/{study['study_id']}"))
    return {a["key"]: a["value"] for a in study["user_attrs"]}, detail


@pytest.mark.postgres
def test_a_complete_study_is_not_shown_active(
    pg_dashboard: Dashboard, pcsearch_exe: str, postgres_url: str, tmp_path: Path
) -> None:
    from store import studies, views
    from store.storage import open_storage
    from tests.store.legacy import small_config

    name = f"done-{secrets.token_hex(4)}"
    config = small_config(n_trials=3)
    studies.create(open_storage(postgres_url), name, config)
    run_to_the_end(pcsearch_exe, tmp_path, postgres_url, name)
    assert views.get_study(open_storage(postgres_url), name).state == "complete"

    attrs, detail = shown(pg_dashboard, name)
    assert "active" not in attrs.values() and "status" not in attrs, attrs
    assert [t["state"] for t in detail["trials"]] == ["Complete"] * 3
    assert detail["objective_names"] == ["accuracy"]
    line = attrs["pcsearch"]
    assert line.startswith("pc-se on mlp-two-moons, 3 trials, random, space ")
    assert "\n" not in line and len(line) <= 160


@pytest.mark.postgres
def test_a_study_made_by_an_older_pcsearch_runs_and_is_shown_right(
    pg_dashboard: Dashboard, pcsearch_exe: str, postgres_url: str, tmp_path: Path
) -> None:
    from store import studies, views
    from store.storage import open_storage
    from tests.store.legacy import make_legacy_study, small_config

    name, config = f"old-{secrets.token_hex(4)}", small_config(n_trials=2)
    make_legacy_study(postgres_url, name, config)
    run_to_the_end(pcsearch_exe, tmp_path, postgres_url, name)
    storage = open_storage(postgres_url)
    assert views.get_study(storage, name).state == "complete"
    assert views.get_study(storage, name).spec == config.to_dict()

    # The worker that loaded it named the metric and dropped the "active" flag.
    attrs, detail = shown(pg_dashboard, name)
    assert detail["objective_names"] == ["accuracy"]
    assert "active" not in attrs.values(), attrs
    assert attrs["pcsearch"].startswith('{"task": "mlp-two-moons"')  # moved by a resume:
    studies.create_or_resume(storage, name, config)
    attrs, _ = shown(pg_dashboard, name)
    assert attrs["pcsearch"] == studies.describe(config)
    assert studies.load(storage, name)[1] == config
    assert views.get_study(storage, name).state == "complete"


def test_a_stop_during_a_burst_of_requests_is_not_swallowed(
    pcsearch_exe: str, tmp_path: Path
) -> None:
    """SIGTERM while the server hands requests to their threads: it used to be caught and
    logged by socketserver as a failed request, and the dashboard served on."""
    make_study(str(tmp_path / "studies.journal"), "moons")
    for round_ in range(2):
        dashboard = start(pcsearch_exe, tmp_path, "--storage", "studies.journal")
        done, answered = threading.Event(), set[int]()

        def hammer(
            dashboard: Dashboard = dashboard,
            done: threading.Event = done,
            answered: set[int] = answered,
        ) -> None:
            while not done.is_set():
                with contextlib.suppress(OSError, http.client.HTTPException):
                    request(dashboard, "/api/studies", "no-such-host.example")
                    answered.add(threading.get_ident())

        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        try:
            # The burst is on once every thread has had an answer (not after a fixed pause).
            give_up = time.monotonic() + 30
            while len(answered) < len(threads) and time.monotonic() < give_up:
                time.sleep(0.01)
            assert len(answered) == len(threads), f"round {round_}: no burst\n{dashboard.output()}"
            assert dashboard.stop(timeout=10) == 0, f"round {round_}\n{dashboard.output()}"
        finally:
            done.set()
            for t in threads:
                t.join(timeout=5)
            if dashboard.process.poll() is None:
                dashboard.stop(signal.SIGKILL)
