"""Worker liveness: ``pcsearch worker --health`` follows real workers (idle, training, gone,
hung); a hung worker is restarted by its supervisor, or ends itself when it runs alone;
``PCSEARCH_WORKER_LOCK`` keeps to one worker per machine.

A hang is the fault-injection point ``PCSEARCH_TEST_HANG_AT=train``: the main thread sleeps
forever holding a claimed trial while its lease heartbeat beats on, as in an XLA call that
never returns; ``PCSEARCH_TEST_HANG_ONCE`` lets only the first process hang.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tests.workers.fleet import assert_study_complete, fleet, make_study, trials_of, wait_until
from workers import liveness

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
DRY = {"PCSEARCH_WORKER_DRY_RUN": "1"}
HUNG_EXIT = 3
HEALTH = ("worker", "--health")
RunMain = Callable[..., subprocess.CompletedProcess]


def _complete(url: str, name: str) -> int:
    return sum(t.state == TrialState.COMPLETE for t in trials_of(url, name))


def _files(folder: Path, pattern: str = "worker-*.json") -> list[Path]:
    return sorted(folder.glob(pattern))


def _hang(tmp_path: Path) -> dict[str, str]:
    return {
        "PCSEARCH_TEST_HANG_AT": "train",
        "PCSEARCH_TEST_HANG_ONCE": str(tmp_path / "hung"),
    }


def test_health_follows_a_worker(
    pcsearch_exe: str, fresh_database: str, tmp_path: Path, run_main: RunMain
) -> None:
    """1 with no worker; 0 while one waits for work, trains (epochs longer in all than the
    stale time) and is idle again; 1 once it stopped, its file gone. The first and the
    last check are the installed script; the many in between run in this process."""
    url, state = fresh_database, tmp_path / "state"
    env = {**DRY, "PCSEARCH_WORKER_STATE_DIR": str(state), "PCSEARCH_WORKER_STALE_SECONDS": "3"}
    env["PCSEARCH_DRY_RUN_EPOCH_SECONDS"] = "0.4"
    with fleet(pcsearch_exe, tmp_path, url, **env) as f:
        nobody = f.health()
        assert nobody.returncode == 1, nobody
        assert "no pcsearch worker runs here" in nobody.stderr and str(state) in nobody.stderr
        worker = f.start("--poll", "0.3")
        wait_until(lambda: run_main(*HEALTH, env=env).returncode == 0, 60, "a healthy worker")
        time.sleep(3.5)  # longer than the stale time: an idle worker still looks for work
        idle = run_main(*HEALTH, env=env)
        assert idle.returncode == 0 and "ok: 1 worker(s) alive" in idle.stdout, idle

        make_study(url, "alive", n_trials=1, epochs=10)  # 4 s of 0.4 s epochs, in one trial
        started, healthy_at = time.monotonic(), 0.0
        while _complete(url, "alive") < 1:  # every epoch counts as progress
            training = run_main(*HEALTH, env=env)
            assert training.returncode == 0, (training, f.output())
            assert worker.poll() is None, f.output()
            healthy_at = time.monotonic() - started
            time.sleep(0.1)
        # Healthy while training, later than the stale time (however slow each check is).
        assert healthy_at > 3, healthy_at
        time.sleep(3.5)
        after = run_main(*HEALTH, env=env)
        assert after.returncode == 0, after

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, f.output()
    assert _files(state) == []
    gone = f.health()
    assert gone.returncode == 1 and "no pcsearch worker runs here" in gone.stderr, gone


def test_health_ignores_and_removes_the_files_of_dead_workers(tmp_path: Path) -> None:
    """A worker killed by SIGKILL leaves its file; a container restarted with the same small
    pids must not take it for a live worker's (the file records the process's start)."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    reused = {"pid": os.getpid(), "index": None, "host": "h", "started": "1"}  # not our start
    (tmp_path / f"worker-0-{dead.pid}.json").write_text(json.dumps(dict(reused, pid=dead.pid)))
    (tmp_path / f"worker-{os.getpid()}.json").write_text(json.dumps(reused))
    healthy, line = liveness.health(tmp_path, 60)
    assert not healthy and line.startswith("no pcsearch worker runs here"), line
    assert _files(tmp_path) == []


def test_a_hung_worker_is_reported_and_its_supervisor_restarts_it(
    pcsearch_exe: str, fresh_database: str, tmp_path: Path, run_main: RunMain
) -> None:
    url, state = fresh_database, tmp_path / "state"
    env = {**DRY, **_hang(tmp_path), "PCSEARCH_WORKER_STATE_DIR": str(state)}
    env["PCSEARCH_WORKER_STALE_SECONDS"] = "4"
    make_study(url, "hang", n_trials=4, epochs=2)
    with fleet(pcsearch_exe, tmp_path, url, **env) as f:
        supervisor = f.start("--procs", "2", "--poll", "0.3", "--restart-pause", "0.5")
        hung = int(wait_until(lambda: _read(tmp_path / "hung"), 60, "a worker to hang"))
        # --health with a shorter stale time sees it before the supervisor acts.
        shorter = {**env, "PCSEARCH_WORKER_STALE_SECONDS": "2"}
        seen = wait_until(
            lambda: (r := run_main(*HEALTH, env=shorter)).returncode == 1 and r,
            3.5,
            "--health to see the hang",
        )
        assert re.search(
            rf"\(pid {hung}\) is stale: no progress since \S+ \S+ \(\d+ s", seen.stderr
        )
        assert "1 of 2 stale" in seen.stderr, seen.stderr

        wait_until(lambda: _complete(url, "hang") == 4, 90, "the study, hung trial included")
        logged = f.logs[0].read_text()  # the supervisor's, its children's lines among them
        found = re.search(rf"worker (\d) \(pid {hung}\) made no progress for \d+ s", logged)
        assert found and "it hangs; stopping it, restarting in 0 s" in logged, logged
        index = found.group(1)
        restarted = wait_until(lambda: _files(state, f"worker-{index}-*.json"), 10, "a new child")
        assert [p.name for p in restarted] != [f"worker-{index}-{hung}.json"]
        assert supervisor.poll() is None, f.output()
        assert run_main(*HEALTH, env=env).returncode == 0, f.output()
    trials = assert_study_complete(url, "hang", 4)
    (given_back,) = [t for t in trials if t.state == TrialState.FAIL]
    assert given_back.user_attrs["reason"] == "worker stopped by SIGTERM"
    assert given_back.user_attrs["worker"].endswith(f":{hung}")


def test_a_lone_worker_that_hangs_gives_its_trial_back_and_exits(
    pcsearch_exe: str, fresh_database: str, tmp_path: Path
) -> None:
    """No supervisor: its own watchdog ends it (for a container's restart policy)."""
    url, state = fresh_database, tmp_path / "state"
    env = {**DRY, **_hang(tmp_path), "PCSEARCH_WORKER_STATE_DIR": str(state)}
    env["PCSEARCH_WORKER_STALE_SECONDS"] = "3"
    make_study(url, "lone", n_trials=1, epochs=2)
    with fleet(pcsearch_exe, tmp_path, url, **env) as f:
        worker = f.start("--study", "lone", "--poll", "0.3")
        assert worker.wait(timeout=60) == HUNG_EXIT, f.output()
        assert "no progress for 3 s (PCSEARCH_WORKER_STALE_SECONDS=3)" in f.output()
        assert _files(state) == []
        hung, retry = trials_of(url, "lone")
        assert (hung.state, retry.state) == (TrialState.FAIL, TrialState.WAITING)
        assert hung.user_attrs["reason"] == "worker stopped by its watchdog (no progress for 3 s)"
        again = f.start("--study", "lone", "--until-done", "--poll", "0.3")  # HANG_ONCE: done
        assert again.wait(timeout=60) == 0, f.output()
    assert_study_complete(url, "lone", 1)


def test_one_worker_per_machine_with_the_lock(
    pcsearch_exe: str, fresh_database: str, tmp_path: Path, run_main: RunMain
) -> None:
    url, state, lock = fresh_database, tmp_path / "state", tmp_path / "cache" / "worker.lock"
    env = {**DRY, "PCSEARCH_WORKER_STATE_DIR": str(state), "PCSEARCH_WORKER_LOCK": str(lock)}
    with fleet(pcsearch_exe, tmp_path, url, **env) as f:
        first = f.start("--procs", "2", "--poll", "0.3")  # its children are not refused
        wait_until(lambda: len(_files(state)) == 2, 60, "the first worker's two processes")
        holder = lock.read_text().strip()
        assert holder.endswith(f":{first.pid}"), holder

        second = f.start("--poll", "0.3")
        assert second.wait(timeout=30) == 2, f.output()
        refused = f.logs[1].read_text().strip()
        assert refused == (
            f"pcsearch worker: error: another pcsearch worker ({holder}) already runs on this "
            f"machine with lock {lock}; run one worker container per machine (not docker "
            f"compose --scale worker=N) and use --procs for more processes per GPU"
        )
        assert first.poll() is None, f.output()
        assert run_main(*HEALTH, env=env).returncode == 0, f.output()

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0, f.output()
        third = f.start("--poll", "0.3")
        wait_until(lambda: lock.read_text().strip().endswith(f":{third.pid}"), 30, "the lock")
        # Holding the lock, it goes on to work: connected and looking for studies.
        wait_until(
            lambda: " ready: " in f.logs[2].read_text() or third.poll() is not None,
            30,
            "the third worker ready",
        )
        assert third.poll() is None, f.output()


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        (
            {"PCSEARCH_WORKER_STALE_SECONDS": "3"},
            ["--poll", "5"],
            "--poll 5 must be below PCSEARCH_WORKER_STALE_SECONDS=3: a worker idle that long",
        ),
        (
            {"PCSEARCH_WORKER_STATE_DIR": "/proc/no-such-folder"},
            [],
            "PCSEARCH_WORKER_STATE_DIR=/proc/no-such-folder: cannot write a liveness file there",
        ),
        (
            {"PCSEARCH_WORKER_LOCK": "/proc/no-such-folder/worker.lock"},
            [],
            "PCSEARCH_WORKER_LOCK=/proc/no-such-folder/worker.lock: cannot open it",
        ),
    ],
)
def test_settings_a_worker_cannot_keep_are_usage_errors(
    run_main: RunMain, tmp_path: Path, env: dict[str, str], args: list[str], message: str
) -> None:
    """The command's exit code and message, in this process."""
    done = run_main("worker", "--storage", str(tmp_path / "s.journal"), *args, env={**DRY, **env})
    assert done.returncode == 2 and message in done.stderr, done
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
