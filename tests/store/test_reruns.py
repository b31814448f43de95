"""Rerun studies: one queued trial per seed, run by ordinary workers (here a real
``pcsearch worker`` on PostgreSQL, as the service's fleet would), a seed kept through a
retry, and nothing queued twice when the study is resumed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from store import attrs, reruns, studies
from store.config import StudyConfig
from store.errors import StoreError
from store.leases import Holdings, StaleWatch, release
from store.storage import open_storage
from workers.claim import claim
from workers.local import worker_env


def config(seeds=(3, 5, 8), **extra) -> StudyConfig:
    return reruns.rerun_config(
        "mlp-two-moons", "pc-se", {"epochs": 2}, list(seeds), keep_best=2, source="test", **extra
    )


def test_each_seed_is_queued_once_and_a_retry_keeps_its_seed(tmp_path: Path):
    url = str(tmp_path / "s.journal")
    storage = open_storage(url)
    study = studies.create_or_resume(storage, "r.seeds", config())
    studies.create_or_resume(storage, "r.seeds", config())  # resumed: nothing new queued
    queued = study.get_trials(states=(TrialState.WAITING,))
    assert sorted(t.user_attrs[attrs.SEED] for t in queued) == [3, 5, 8]
    _, claimed = claim(study, url, 1, Holdings(), StaleWatch())
    (taken,) = claimed
    seed = taken.trial.user_attrs[attrs.SEED]
    assert taken.params["epochs"] == 2 and taken.params["state_lr"] > 0
    release(study, [taken.trial._trial_id], "worker lost", retry=True)
    waiting = study.get_trials(states=(TrialState.WAITING,))
    retry = [t for t in waiting if t.user_attrs.get(attrs.RETRY_OF) is not None]
    assert [t.user_attrs[attrs.SEED] for t in retry] == [seed]
    assert sorted(t.user_attrs[attrs.SEED] for t in waiting) == [3, 5, 8]


def test_rerun_configs_are_checked():
    with pytest.raises(StoreError, match="distinct"):
        config(seeds=(1, 1))
    with pytest.raises(StoreError, match="keep_best=4"):
        reruns.rerun_config("mlp-two-moons", "pc-se", {}, [0, 1, 2], keep_best=4, source="t")


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_of_the_fleet_runs_a_queued_rerun(
    postgres_url: str,
    pcsearch_exe: str,
    run_main: Callable[..., subprocess.CompletedProcess],
    tmp_path: Path,
):
    """``pcsearch rerun --no-workers`` (in this process) queues; a worker process runs."""
    queue = run_main(
        "rerun", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--seeds", "3",
        "--epochs", "2", "--no-workers", "--storage", postgres_url, "--name", "pg.seeds",
    )  # fmt: skip
    assert queue.returncode == 0, queue.stderr
    worker = subprocess.run(
        [pcsearch_exe, "worker", "--storage", postgres_url, "--study", "pg.seeds", "--until-done"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=worker_env(0, 1),
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr[-4000:]
    trials = optuna.load_study(study_name="pg.seeds", storage=open_storage(postgres_url)).trials
    assert sorted(t.user_attrs[attrs.SEED] for t in trials) == [0, 1, 2]
    assert all(t.state == TrialState.COMPLETE for t in trials)
    params = {str(sorted(t.user_attrs[attrs.RESOLVED_PARAMS].items())) for t in trials}
    assert len(params) == 1  # one configuration, three seeds
    histories = {tuple(t.user_attrs[attrs.EPOCH_VALUES]) for t in trials}
    assert len(histories) > 1  # the seeds differ, so do the runs
