"""The healthchecks of docker-compose.yml and docker-compose.worker.yml, run for real where
they can be outside a container: the API's and the dashboard's python one-liner against
local HTTP servers (a stand-in answering 200 then 503, and a real `pcsearch dashboard`),
Postgres's pg_isready against this machine's server; the workers' `pcsearch worker
--health` through pcsearch's own parser."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api.helpers import free_port
from tests.deploy.helpers import (
    COMPOSE,
    COMPOSE_WORKER,
    command_argv,
    configured_env,
    interpolate,
    load,
    parse_pcsearch,
)
from tests.workers.fleet import wait_until

HTTP_CHECKED = {
    "api": "http://127.0.0.1:8000/readyz",
    "dashboard": "http://127.0.0.1:8080/api/meta",
}
WORKERS = ("worker", "worker-cpu")


def services(path: Path = COMPOSE) -> dict[str, dict]:
    return interpolate(load(path), configured_env())["services"]


def one_shot(service: dict) -> bool:
    return service.get("restart", "no") == "no"


@pytest.mark.parametrize("path", [COMPOSE, COMPOSE_WORKER], ids=lambda p: p.name)
def test_every_long_running_service_is_healthchecked(path: Path) -> None:
    found = services(path)
    long_running = [name for name, service in found.items() if not one_shot(service)]
    assert long_running, "no long-running service?"
    for name in long_running:
        check = found[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
    assert [n for n, s in found.items() if one_shot(s)] in ([], ["secrets-check"])


@pytest.mark.parametrize(
    ("path", "name"),
    [(COMPOSE, "worker"), (COMPOSE, "worker-cpu"), (COMPOSE_WORKER, "worker")],
    ids=lambda v: getattr(v, "name", v),
)
def test_workers_check_their_own_progress(path: Path, name: str) -> None:
    """`pcsearch worker --health`: 0 while every worker process of the container made
    progress recently. Docker does not restart an unhealthy container; the comment beside
    the check says who restarts a hung worker process."""
    test = services(path)[name]["healthcheck"]["test"]
    assert test == ["CMD", "pcsearch", "worker", "--health"], test
    args = parse_pcsearch(test[1:])
    assert args.command == "worker" and args.health
    text = path.read_text()
    assert "never because it is unhealthy" in text and "supervisor" in text


def http_check(name: str, url: str) -> list[str]:
    """The service's healthcheck as an argument vector for this machine, aimed at ``url``."""
    test = services()[name]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"] and len(test) == 5, test
    assert test[4] == HTTP_CHECKED[name], test[4]
    return [sys.executable, "-c", test[3], url]


@pytest.mark.parametrize("name", list(HTTP_CHECKED))
def test_http_checks_ask_the_port_the_service_listens_on(name: str) -> None:
    argv = command_argv(services()[name]["command"])
    port = argv[argv.index("--port") + 1]
    assert HTTP_CHECKED[name].startswith(f"http://127.0.0.1:{port}/")


class Answers(http.server.BaseHTTPRequestHandler):
    """Answers GET with the next status of ``statuses`` (then the last one again)."""

    statuses: list[int] = []
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the handler's name
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        self.seen.append(self.path)
        body = b'{"status": "ready"}' if status == 200 else b'{"detail": "not ready"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[tuple[str, type[Answers]]]:
    handler = type("Handler", (Answers,), {"statuses": [200], "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


@pytest.mark.parametrize("name", list(HTTP_CHECKED))
def test_http_check_passes_on_200_and_fails_otherwise(
    name: str, stand_in: tuple[str, type[Answers]]
) -> None:
    base, handler = stand_in
    path = urlsplit(HTTP_CHECKED[name]).path.lstrip("/")
    handler.statuses[:] = [200, 503]
    # A proxy in the environment (Docker may set one) is not asked.
    ok = run(http_check(name, f"{base}/{path}"), http_proxy="http://127.0.0.1:9")
    assert ok.returncode == 0, ok.stderr
    not_ready = run(http_check(name, f"{base}/{path}"))
    assert not_ready.returncode == 1
    [line] = not_ready.stderr.strip().splitlines()
    assert "503" in line and f"/{path}" in line, line
    assert handler.seen == [f"/{path}", f"/{path}"]
    closed = run(http_check(name, f"http://127.0.0.1:{free_port()}/{path}"))
    assert closed.returncode == 1 and "refused" in closed.stderr.lower(), closed.stderr


def test_dashboard_check_passes_against_a_real_dashboard(pcsearch_exe: str, tmp_path: Path) -> None:
    """The compose command line (on another port, a journal file for storage), asked the
    way Docker asks: its Host check lets 127.0.0.1 in and /api/meta answers 200."""
    from store.storage import open_storage

    journal = tmp_path / "studies.journal"
    open_storage(str(journal))  # the dashboard wants an existing storage
    port = free_port()
    argv = command_argv(services()["dashboard"]["command"])
    argv[argv.index("--port") + 1] = str(port)
    env = {k: v for k, v in os.environ.items() if k != "PCSEARCH_DATABASE_URL"}
    with open(tmp_path / "dashboard.log", "w") as log:
        process = subprocess.Popen(
            [pcsearch_exe, *argv[1:], "--storage", str(journal)],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        check = http_check("dashboard", f"http://127.0.0.1:{port}/api/meta")

        def healthy() -> bool:
            assert process.poll() is None, (tmp_path / "dashboard.log").read_text()
            return run(check).returncode == 0

        wait_until(healthy, 60, "the dashboard's healthcheck to pass")
    finally:
        process.terminate()
        process.wait(timeout=20)


PG_ISREADY = shutil.which("pg_isready")


def pg_isready(port: int | None = None) -> subprocess.CompletedProcess:
    """Postgres's healthcheck on this machine (pg_isready is the client's, any version),
    against the port given, else the one it names."""
    test = services()["postgres"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"], test
    argv = [PG_ISREADY or "pg_isready", *test[2:]]
    if port is not None:
        argv[argv.index("-p") + 1] = str(port)
    return run(argv)


def test_postgres_check_is_over_tcp() -> None:
    """The image's first-start server listens on the unix socket only: a socket check
    would pass before the real server is up."""
    test = services()["postgres"]["healthcheck"]["test"]
    assert test[test.index("-h") + 1] == "127.0.0.1"
    assert test[test.index("-p") + 1] == "5432"
    assert not any(arg.startswith("/") for arg in test), "no socket folder"


@pytest.mark.postgres
@pytest.mark.skipif(PG_ISREADY is None, reason="pg_isready is not installed")
def test_postgres_check_runs_for_real(postgres_url: str) -> None:
    """This machine's server listens on 127.0.0.1:5432, as the container's does; nothing
    listens on a free port."""
    up = pg_isready()
    assert up.returncode == 0, up.stdout + up.stderr
    assert "127.0.0.1:5432" in up.stdout
    down = pg_isready(free_port())
    assert down.returncode == 2, down.stdout + down.stderr
