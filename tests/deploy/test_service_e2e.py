"""The service end to end, outside containers (no Docker engine runs here): the very
command lines of docker-compose.yml's api, worker and dashboard services, started as real
processes on an empty Postgres database, the API and three workers at the same instant.

Two 12-trial studies on mlp-two-moons are submitted over HTTP (raw HTTP, as curl would,
and ``pcsearch submit``), in the default space with its structure (T, activation) fixed so
that a worker compiles one program rather than one per trial (as the fleet tests' studies,
whose compiled program the suite's cache then shares); each ends with exactly 12 finished
trials, trained for real; GET shows the best;
stop and resume work; delete removes a study; the dashboard lists what is left; and no
output anywhere shows the database password. Only the port numbers are changed, to free
ones, since several tests share this machine.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.api.helpers import free_port
from tests.deploy.helpers import REPO, env_file, interpolate
from tests.workers.fleet import assert_study_complete, fixed_space, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]
PASSWORD = "e2e-Pw-7731"
TOKEN = "e2e-token-0123456789"
TRIALS = 6
SPACE = {**fixed_space("mlp-two-moons", "pc-se", T=4, activation="tanh"), "name": "e2e-moons"}


def compose_commands() -> dict[str, list[str]]:
    example = env_file(REPO / ".env.example")
    doc = interpolate(yaml.safe_load((REPO / "docker-compose.yml").read_text()), example)
    services = doc["services"].items()
    return {name: shlex.split(s["command"]) for name, s in services if "command" in s}


def with_port(argv: list[str], port: int) -> list[str]:
    out = list(argv)
    out[out.index("--port") + 1] = str(port)
    return out


def http(method: str, url: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, Any]:
    """One request with the standard library, as curl would send it."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Processes:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, label: str, argv: list[str]) -> subprocess.Popen:
        log = self.folder / f"{label}.log"
        exe = str(Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / argv[0])
        with open(log, "w") as handle:
            process = subprocess.Popen(
                [exe if Path(exe).exists() else argv[0], *argv[1:]],
                cwd=self.folder,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        self.started.append((label, process, log))
        return process

    def output(self) -> str:
        return "\n".join(f"--- {name}\n{log.read_text()[-4000:]}" for name, _, log in self.started)

    def stop(self) -> list[int]:
        for _, p, _ in self.started:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for _, p, _ in self.started:
            try:
                codes.append(p.wait(timeout=20))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait())
        return codes


def finished(api: str, name: str) -> bool:
    status, study = http("GET", f"{api}/api/v1/studies/{name}")
    assert status == 200, study
    return study["trials"]["complete"] + study["trials"]["pruned"] >= TRIALS


def test_the_service_as_compose_runs_it(
    fresh_database: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    commands = compose_commands()
    database_url = fresh_database.replace("postgres@", f"postgres:{PASSWORD}@")  # trust auth
    env = {
        **os.environ,
        "PCSEARCH_DATABASE_URL": database_url,
        "PCSEARCH_API_TOKENS": TOKEN,
        "PCSEARCH_HEARTBEAT_SECONDS": "1",
        "PCSEARCH_HEARTBEAT_GRACE_SECONDS": "6",
        "PCSEARCH_TEST_START_AT": str(time.time() + 6),  # API and workers at one instant
    }
    procs = Processes(tmp_path, env)
    api_port, dashboard_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    try:
        procs.start("api", with_port(commands["api"], api_port))
        for i in range(3):
            procs.start(f"worker-{i}", commands["worker"] + ["--poll", "0.5", "--seed", str(i)])
        wait_until(lambda: _ready(api), 90, "the API to be ready")

        # Submitted as curl would: raw HTTP with the token.
        spec = {"name": "e2e-raw", "task": "mlp-two-moons", "algorithm": "pc-se",
                "n_trials": TRIALS, "epochs": 3, "seed": 1, "space": SPACE}  # fmt: skip
        status, created = http("POST", f"{api}/api/v1/studies", spec)
        assert status == 201, created
        assert created["name"] == "e2e-raw" and created["n_trials"] == TRIALS
        assert http("POST", f"{api}/api/v1/studies", spec, token=None)[0] == 401

        # Submitted with the client, then stopped at once and resumed.
        client_env = {**env, "PCSEARCH_API_URL": api, "PCSEARCH_API_TOKEN": TOKEN}
        (tmp_path / "space.json").write_text(json.dumps(SPACE))
        submit = subprocess.run(
            [pcsearch_exe, "submit", "--name", "e2e-cli", "--task", "mlp-two-moons",
             "--algorithm", "pc-se", "--trials", str(TRIALS), "--epochs", "3",
             "--space", str(tmp_path / "space.json")],
            env=client_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert submit.returncode == 0, submit.stderr
        stop = subprocess.run([pcsearch_exe, "stop", "e2e-cli"], env=client_env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert stop.returncode == 0, stop.stderr
        wait_until(lambda: finished(api, "e2e-raw"), 300, "study e2e-raw\n" + procs.output())
        _, stopped = http("GET", f"{api}/api/v1/studies/e2e-cli")
        assert stopped["state"] == "stopped", stopped
        taken = stopped["trials"]["complete"] + stopped["trials"]["running"]
        assert taken <= 3, "workers kept taking trials of a stopped study"
        assert http("POST", f"{api}/api/v1/studies/e2e-cli/resume")[0] == 200
        wait_until(lambda: finished(api, "e2e-cli"), 300, "study e2e-cli\n" + procs.output())

        for name in ("e2e-raw", "e2e-cli"):
            assert_study_complete(database_url, name, TRIALS)
            _, study = http("GET", f"{api}/api/v1/studies/{name}")
            assert study["state"] == "complete"
            assert study["best_value"] == study["best_trial"]["value"] > 0.5
            assert len(study["best_trial"]["epoch_values"]) == 3
        status_out = subprocess.run([pcsearch_exe, "status", "e2e-cli"], env=client_env,
                                    capture_output=True, text=True, timeout=60)  # fmt: skip
        assert status_out.returncode == 0 and "e2e-cli" in status_out.stdout, status_out.stderr

        assert http("DELETE", f"{api}/api/v1/studies/e2e-raw")[0] == 204
        assert http("GET", f"{api}/api/v1/studies/e2e-raw")[0] == 404

        procs.start("dashboard", with_port(commands["dashboard"], dashboard_port))
        dashboard = f"http://127.0.0.1:{dashboard_port}"
        listed = wait_until(lambda: _dashboard_studies(dashboard), 60, "the dashboard")
        assert [s["study_name"] for s in listed] == ["e2e-cli"]
    finally:
        codes = procs.stop()
    output = procs.output()
    assert codes == [0] * len(codes), output
    assert PASSWORD not in output and PASSWORD not in submit.stdout + submit.stderr
    assert "Traceback" not in output, output


def _ready(api: str) -> bool:
    try:
        return http("GET", f"{api}/readyz", token=None)[0] == 200
    except OSError:
        return False


def _dashboard_studies(base: str) -> list[dict] | None:
    try:
        with urllib.request.urlopen(f"{base}/api/studies", timeout=10) as response:
            return json.loads(response.read())["study_summaries"]
    except OSError:
        return None
