"""Helpers for fleet tests: real ``pcsearch worker`` processes on a real storage, with a
short heartbeat, and the end-of-test check every scenario shares."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search_spaces import default_space
from store import studies
from store.config import StudyConfig
from store.storage import open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
HEARTBEAT = {"PCSEARCH_HEARTBEAT_SECONDS": "0.5", "PCSEARCH_HEARTBEAT_GRACE_SECONDS": "3"}


def fixed_space(task: str, algorithm: str, **fixed: Any) -> dict[str, Any]:
    """The default space with some parameters pinned (e.g. structure, so trials share one
    compiled program and the test spends its time on what it tests)."""
    space = default_space(task, algorithm).to_dict()
    for name, value in fixed.items():
        space["params"][name] = {"type": "fixed", "value": value}
    return space


def make_study(url: str, name: str, n_trials: int, epochs: int, **changes: Any) -> optuna.Study:
    task = changes.pop("task", "mlp-two-moons")
    algorithm = changes.pop("algorithm", "pc-se")
    values: dict[str, Any] = {
        "task": task,
        "algorithm": algorithm,
        "space": fixed_space(task, algorithm, T=4, activation="tanh"),
        "n_trials": n_trials,
        "sampler": "random",
        "pruner": "none",
        "overrides": {"epochs": epochs},
        "seed": 3,
    }
    values.update(changes)
    return studies.create(open_storage(url), name, StudyConfig(**values))


def trials_of(url: str, name: str) -> list[FrozenTrial]:
    return optuna.load_study(study_name=name, storage=open_storage(url)).get_trials()


def states(trials: list[FrozenTrial]) -> list[tuple[int, str]]:
    return [(t.number, t.state.name) for t in trials]


def assert_study_complete(url: str, name: str, n_trials: int) -> list[FrozenTrial]:
    """Exactly ``n_trials`` COMPLETE or PRUNED; none RUNNING or WAITING; every finished
    result kept (a finished trial has its whole history)."""
    trials = trials_of(url, name)
    finished = [t for t in trials if t.state in FINISHED]
    assert len(finished) == n_trials, states(trials)
    left = [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert not left, states(trials)
    for t in finished:
        assert t.user_attrs.get("status") in ("completed", "stopped", "diverged"), t.user_attrs
        assert len(t.user_attrs["epoch_values"]) >= 1
    return trials


@dataclass
class Fleet:
    """Worker processes started by a test; whatever still runs at the end is killed."""

    exe: str
    folder: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        log = self.folder / f"worker-{len(self.processes)}.log"
        with open(log, "w") as handle:
            process = subprocess.Popen(
                [self.exe, "worker", *args],
                cwd=self.folder,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**self.env, **(extra_env or {})},
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def wait(self, timeout: float) -> list[int]:
        give_up = time.monotonic() + timeout
        codes = []
        for p in self.processes:
            try:
                codes.append(p.wait(timeout=max(0.1, give_up - time.monotonic())))
            except subprocess.TimeoutExpired:
                codes.append(-999)
        return codes

    def health(self, **extra_env: str) -> subprocess.CompletedProcess:
        """``pcsearch worker --health`` as a container's healthcheck runs it."""
        return subprocess.run(
            [self.exe, "worker", "--health"],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=30,
            env={**self.env, **extra_env},
        )

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@contextmanager
def fleet(exe: str, folder: Path, url: str, **env: str) -> Iterator[Fleet]:
    f = Fleet(exe, folder, {**os.environ, **HEARTBEAT, "PCSEARCH_DATABASE_URL": url, **env})
    try:
        yield f
    finally:
        f.stop()


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def running_with_epochs(url: str, name: str, at_least: int = 1) -> FrozenTrial | None:
    """A RUNNING trial that has reported ``at_least`` epochs (so it is mid-training)."""
    for t in trials_of(url, name):
        if t.state == TrialState.RUNNING and len(t.user_attrs.get("epoch_values", [])) >= at_least:
            return t
    return None


def owner_pid(trial: FrozenTrial) -> int:
    return int(trial.user_attrs["worker"].rpartition(":")[2])
