"""Helpers of the API tests (shared with the CLI client tests): real uvicorn servers on
free ports, ``pcsearch api`` subprocesses, and studies with trials made with Optuna directly."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import optuna
import uvicorn

from api.main import create_app
from search_spaces import default_space
from store import attrs
from store.config import StudyConfig
from store.settings import Settings, load_settings

TOKENS = ("token-one", "token-two")
TASK, ALGORITHM = "mlp-digits", "pc-se"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url(password: str | None = None) -> str:
    """A Postgres URL on a port nothing listens on."""
    user = f"postgres:{password}" if password else "postgres"
    return f"postgresql+psycopg2://{user}@127.0.0.1:{free_port()}/nothing"


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """A real uvicorn server for ``create_app(settings)`` in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    give_up = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > give_up:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def settings_for(url: str, **values: Any) -> Settings:
    """Settings for a test server: tokens, and no read cache (tests change the database
    behind the API's back and read at once; test_cache.py covers the cache)."""
    values = {"api_tokens": ",".join(TOKENS), "api_cache_seconds": 0, **values}
    return load_settings(database_url=url, **values)


@dataclass
class Api:
    url: str
    database_url: str

    def client(self, token: str | None = TOKENS[0]) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def make_config(n_trials: int = 5, **changes: Any) -> StudyConfig:
    space = default_space(TASK, ALGORITHM).to_dict()
    values = {"task": TASK, "algorithm": ALGORITHM, "space": space, "n_trials": n_trials}
    return StudyConfig(**(values | {"overrides": {"epochs": 2}} | changes))


@dataclass(frozen=True)
class TrialSpec:
    state: optuna.trial.TrialState
    value: float | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)


COMPLETE, PRUNED = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
RUNNING, FAIL = optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.FAIL


def add_trials(study: optuna.Study, specs: list[TrialSpec]) -> list[int]:
    """Trials made with ask/tell (no worker involved), with pcsearch's attributes."""
    distributions = default_space(TASK, ALGORITHM).distributions(ALGORITHM)
    numbers = []
    for spec in specs:
        trial = study.ask(distributions)
        for key, value in spec.user_attrs.items():
            trial.set_user_attr(key, value)
        if spec.state == COMPLETE:
            study.tell(trial, spec.value)
        elif spec.state != RUNNING:
            study.tell(trial, state=spec.state)
        numbers.append(trial.number)
    return numbers


def epoch_attrs(values: list[float], worker: str = "host:1") -> dict[str, Any]:
    return {attrs.EPOCH_VALUES: values, attrs.WORKER: worker, attrs.RUN_STATUS: "completed"}


@dataclass
class ApiProcess:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def api_process(
    database_url: str, log: Path, tokens: str | None = ",".join(TOKENS), *extra: str
) -> Iterator[ApiProcess]:
    """``pcsearch api`` as a real subprocess, its output in ``log``; stopped at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCSEARCH_API")}
    env.pop("PCSEARCH_DATABASE_URL", None)
    if tokens:
        env["PCSEARCH_API_TOKENS"] = tokens
    exe = str(Path(sys.executable).with_name("pcsearch"))
    command = [exe, "api", "--storage", database_url, "--port", str(port), *extra]
    with open(log, "w") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    running = ApiProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        give_up = time.monotonic() + 60
        while not _healthy(running.url):
            if process.poll() is not None:
                raise RuntimeError(f"pcsearch api exited: {running.output()}")
            if time.monotonic() > give_up:
                raise RuntimeError("pcsearch api did not start within 60 s")
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
