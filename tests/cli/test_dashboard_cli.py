"""``pcsearch dashboard``: optuna-dashboard served on pcsearch's storage, run as a real
process, read through its own JSON API and in a real browser."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.browser import rendered_dom

pytestmark = pytest.mark.timeout(180)

PASSWORD = "not-shown-" + secrets.token_hex(4)
"""Postgres here trusts every local connection, so any password works: it only has to
never appear in what the command prints or in its command line."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_study(url: str, name: str) -> dict[str, str]:
    """A pcsearch study, made the way every shell makes one; the attrs it should show."""
    from search_spaces import default_space
    from workers import studies
    from workers.config import StudyConfig
    from workers.storage import open_storage

    space = default_space("mlp-two-moons", "pc-se")
    config = StudyConfig(task="mlp-two-moons", algorithm="pc-se", space=space.to_dict(), n_trials=4)
    studies.create(open_storage(url), name, config)
    return {"task": "mlp-two-moons", "algorithm": "pc-se", "space": space.ref, "status": "active"}


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

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
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
    assert {k: attrs.get(k) for k in expected} == expected
    assert found[0]["directions"] == ["maximize"]

    detail = json.loads(pg_dashboard.get(f"/api/studies/{found[0]['study_id']}"))
    assert detail["name"] == name
    detail_attrs = {a["key"]: a["value"] for a in detail["user_attrs"]}
    assert {k: detail_attrs.get(k) for k in expected} == expected


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


def _fails_in_one_line(
    exe: str, folder: Path, *args: str, env: dict[str, str] | None = None
) -> str:
    """Run a dashboard that must not start; its one error line."""
    result = subprocess.run(
        [exe, "dashboard", *args],
        cwd=folder,
        env=env if env is not None else _env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 2, report
    assert "Traceback" not in result.stderr, report
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcsearch dashboard: error: "), report
    assert PASSWORD not in result.stdout + result.stderr, report
    return lines[0]


def test_unreachable_database(pcsearch_exe: str, tmp_path: Path) -> None:
    url = f"postgresql+psycopg2://pcsearch:{PASSWORD}@127.0.0.1:1/pcsearch"
    env = _env(PCSEARCH_DATABASE_URL=url, PCSEARCH_CONNECT_TIMEOUT_SECONDS="0")
    line = _fails_in_one_line(pcsearch_exe, tmp_path, env=env)
    assert "pcsearch:***@127.0.0.1:1" in line and "refused" in line.lower()


def test_unsupported_url(pcsearch_exe: str, tmp_path: Path) -> None:
    line = _fails_in_one_line(pcsearch_exe, tmp_path, "--storage", "redis://host/0")
    assert "not supported" in line


def test_no_journal_where_it_looks(pcsearch_exe: str, tmp_path: Path) -> None:
    line = _fails_in_one_line(pcsearch_exe, tmp_path)
    assert "pcsearch.journal" in line
    assert not (tmp_path / "pcsearch.journal").exists(), "it must not create an empty journal"


def test_port_in_use(pcsearch_exe: str, tmp_path: Path) -> None:
    make_study(str(tmp_path / "studies.journal"), "moons")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = _fails_in_one_line(
            pcsearch_exe, tmp_path, "--storage", "studies.journal", "--port", port
        )
    assert f"127.0.0.1:{port}" in line and "--port" in line
