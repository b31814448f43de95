"""A fleet of real ``pcsearch worker`` processes on the machine's Postgres, through the
accidents of a long search: kill -9, a crash inside a claim, a database restart, many
workers at once, a fleet starting on an empty database. Each scenario ends with exactly
``n_trials`` COMPLETE or PRUNED trials, none RUNNING or WAITING, no finished result lost.

Trials here do no training (``PCSEARCH_WORKER_DRY_RUN``): what is tested is the claiming,
leasing, retrying and telling, which is the same code whatever the trial computes.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from store import storage
from store.storage import open_storage
from tests.postgres_cluster import private_cluster, server_bin
from tests.workers.fleet import (
    assert_study_complete,
    fleet,
    make_study,
    owner_pid,
    running_with_epochs,
    trials_of,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]
DRY = {"PCSEARCH_WORKER_DRY_RUN": "1", "PCSEARCH_DRY_RUN_EPOCH_SECONDS": "0.2"}


def test_kill_9_mid_trial_is_retried_and_the_study_finishes(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    """The victim is killed at its trial's second epoch of eight: six epochs (1.5 s) are
    left, so the trial cannot finish between the test seeing it and the kill."""
    make_study(postgres_url, "kill9", n_trials=5, epochs=8)
    slower = {**DRY, "PCSEARCH_DRY_RUN_EPOCH_SECONDS": "0.25"}
    with fleet(pcsearch_exe, tmp_path, postgres_url, **slower) as f:
        for i in range(3):
            f.start("--study", "kill9", "--until-done", "--seed", str(i), "--poll", "0.3")
        victim = wait_until(
            lambda: running_with_epochs(postgres_url, "kill9", 2), 60, "a trial mid-run"
        )
        os.kill(owner_pid(victim), signal.SIGKILL)
        codes = f.wait(timeout=120)
    assert sorted(codes) == [-9, 0, 0], f.output()
    trials = assert_study_complete(postgres_url, "kill9", 5)
    dead = next(t for t in trials if t.number == victim.number)
    assert dead.state == TrialState.FAIL and dead.user_attrs["reason"].startswith("worker lost")
    retry = next(t for t in trials if t.user_attrs.get("retry_of") == victim.number)
    assert retry.params == victim.params and retry.user_attrs["attempt"] == 2
    # The retry is the only repeat: the finished trials' parameters are all different.
    done = [tuple(sorted(t.params.items())) for t in trials if t.state != TrialState.FAIL]
    assert len(set(done)) == len(done) == 5
    # The retry starts clean: none of the dead run's per-epoch history is copied.
    assert len(retry.user_attrs["epoch_values"]) == 8


@pytest.mark.parametrize("point", ["after-create", "after-pop"])
def test_kill_9_inside_a_claim_leaves_no_trial_running_forever(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path, point: str
) -> None:
    """The crasher dies mid-claim; one worker started afterwards finishes the study."""
    name = f"crash-{point}"
    study = make_study(postgres_url, name, n_trials=4, epochs=2)
    if point == "after-pop":  # a queued retry to pop: the claim dies between pop and lease
        study.enqueue_trial({"state_lr": 0.1}, user_attrs={"retry_of": 99, "attempt": 2})
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
        crasher = f.start(
            "--study", name, "--until-done", extra_env={"PCSEARCH_TEST_CRASH_AT": point}
        )
        assert crasher.wait(timeout=60) == -9, f.output()
        stranded = [t for t in trials_of(postgres_url, name) if t.state == TrialState.RUNNING]
        assert len(stranded) == 1, "the crash point was not reached inside a claim"
        f.start("--study", name, "--until-done", "--poll", "0.3")
        codes = f.wait(timeout=120)
    assert codes[1:] == [0], f.output()
    trials = assert_study_complete(postgres_url, name, 4)
    lost = next(t for t in trials if t.number == stranded[0].number)
    assert lost.state == TrialState.FAIL, lost
    if point == "after-pop":  # no owner was written: found by its unchanging lease
        assert "worker" not in lost.user_attrs


def test_postgres_restart_mid_search_loses_nothing(pcsearch_exe: str, tmp_path: Path) -> None:
    if server_bin() is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) to run a private server")
    # A server of the test's own: restarting the shared one would break the tests that
    # run beside this one (pytest -n).
    with private_cluster() as cluster:
        url = cluster.url
        try:
            make_study(url, "restart", n_trials=6, epochs=6)
            with fleet(pcsearch_exe, tmp_path, url, **DRY) as f:
                for i in range(2):
                    f.start("--study", "restart", "--until-done", "--seed", str(i), "--poll", "0.3")
                wait_until(lambda: running_with_epochs(url, "restart", 2), 60, "trials mid-run")
                restart = cluster.restart()
                assert restart.returncode == 0, restart.stderr
                codes = f.wait(timeout=180)
                output = f.output()
            assert codes == [0, 0], output
            assert "storage unreachable" in output and "storage reachable again" in output, output
            trials = assert_study_complete(url, "restart", 6)
        finally:
            storage.dispose_engines()
    # The outage was noticed by every observer, so no live worker's trial was taken away.
    assert [t.number for t in trials if t.state == TrialState.FAIL] == [], output


TRIALS_16 = 48
"""Three trials a worker: every worker claims again while the others claim."""


def test_sixteen_workers_share_one_study_exactly(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    make_study(postgres_url, "sixteen", n_trials=TRIALS_16, epochs=1)
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
        for i in range(16):
            f.start("--study", "sixteen", "--until-done", "--seed", str(i), "--poll", "0.5")
        codes = f.wait(timeout=240)
        output = f.output()
    assert codes == [0] * 16, output
    trials = assert_study_complete(postgres_url, "sixteen", TRIALS_16)
    assert len(trials) == TRIALS_16, "a trial was failed or claimed twice"
    assert "Traceback" not in output and " ERROR " not in output, output


def test_workers_started_together_on_an_empty_database(
    fresh_database: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    """No schema yet: each worker creates it under a lock, none crashes; then they serve a
    study created afterwards."""
    start_at = time.time() + 5
    at = {"PCSEARCH_TEST_START_AT": str(start_at)}  # all open the database at the same instant
    with fleet(pcsearch_exe, tmp_path, fresh_database, **DRY, **at) as f:
        workers = [f.start("--poll", "0.3", "--seed", str(i)) for i in range(4)]
        wait_until(  # the schema is theirs to create: each says it is connected
            lambda: (
                all(" ready: " in log.read_text() for log in f.logs)
                or any(w.poll() is not None for w in workers)
            ),
            60,
            "every worker connected",
        )
        assert all(w.poll() is None for w in workers), f.output()
        assert _schema_ready(fresh_database)
        make_study(fresh_database, "together", n_trials=8, epochs=1)
        wait_until(
            lambda: (
                sum(t.state == TrialState.COMPLETE for t in trials_of(fresh_database, "together"))
                == 8
            ),
            120,
            "the study's trials",
        )
        assert all(w.poll() is None for w in workers), f.output()
        f.stop()
        codes = [w.returncode for w in workers]
        output = f.output()
    assert codes == [0, 0, 0, 0], output
    assert "Traceback" not in output and "UniqueViolation" not in output, output
    assert_study_complete(fresh_database, "together", 8)


def _complete(url: str, name: str) -> int:
    return sum(t.state == TrialState.COMPLETE for t in trials_of(url, name))


def _schema_ready(url: str) -> bool:
    try:
        open_storage(url).get_all_studies()
    except Exception:
        return False
    return True
