"""Leases, claims and retries in one process, on a journal file: fast and exact.

The fleet tests run the same code in real processes; these pin down each rule alone.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from store import attrs
from store.leases import (
    Heartbeat,
    Holdings,
    StaleWatch,
    leased_template,
    owner_is_gone,
    reap,
    release,
    worker_id,
)
from store.resilience import OUTAGES
from store.settings import settings
from tests.workers.fleet import make_study
from workers.claim import claim, structure


@pytest.fixture
def url(tmp_path: Path) -> str:
    return str(tmp_path / "s.journal")


def leased_trial(study: optuna.Study, owner: str) -> int:
    return study._storage.create_new_trial(study._study_id, template_trial=leased_template(owner))


def running(study: optuna.Study) -> list[int]:
    return [t.number for t in study.get_trials(states=(TrialState.RUNNING,))]


def test_a_claimed_trial_is_born_with_its_lease(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    holdings = Holdings()
    config, claimed = claim(study, url, 2, holdings, StaleWatch())
    assert config is not None and len(claimed) == 2
    for c in claimed:
        frozen = study._storage.get_trial(c.trial._trial_id)
        assert frozen.state == TrialState.RUNNING
        assert frozen.user_attrs[attrs.WORKER] == worker_id()
        assert frozen.system_attrs[attrs.BEAT] == 0
        assert set(c.params) >= {"state_lr", "T", "epochs"}
    assert {t for _, t in holdings.snapshot()} == {c.trial._trial_id for c in claimed}
    # Batch members share their structure.
    assert structure(claimed[0].params) == structure(claimed[1].params)
    # Only one slot is left.
    _, more = claim(study, url, 5, holdings, StaleWatch())
    assert len(more) == 1
    assert claim(study, url, 5, holdings, StaleWatch())[1] == []


def test_a_stopped_study_gives_no_trials(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    study.set_user_attr(attrs.STATUS, attrs.STOPPED)
    assert claim(study, url, 2, Holdings(), StaleWatch()) == (None, [])


def test_an_unrenewed_lease_is_abandoned_after_the_grace_period(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    elsewhere = leased_trial(study, "another-host:123")
    watch = StaleWatch(grace=0.5)
    assert watch.abandoned(study) == []
    time.sleep(0.6)
    assert [t._trial_id for t in watch.abandoned(study)] == [elsewhere]


def test_a_renewed_lease_is_not_abandoned(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    trial_id = leased_trial(study, "another-host:123")
    holdings = Holdings()
    holdings.add(study, [trial_id])
    beat = Heartbeat(holdings, interval=10)
    watch = StaleWatch(grace=0.5)
    for _ in range(4):
        watch.abandoned(study)
        time.sleep(0.3)
        beat.beat()
    assert watch.abandoned(study) == []


def test_an_outage_restarts_every_observation(url: str) -> None:
    """Nobody can renew a lease while the storage is away, so time seen before an outage
    does not count towards the grace period."""
    study = make_study(url, "s", n_trials=3, epochs=1)
    leased_trial(study, "another-host:123")
    watch = StaleWatch(grace=0.5)
    watch.abandoned(study)
    time.sleep(0.6)
    OUTAGES.failed(ConnectionError("test outage"))
    OUTAGES.succeeded()
    assert watch.abandoned(study) == []
    time.sleep(0.6)
    assert len(watch.abandoned(study)) == 1


def test_a_dead_local_owner_is_abandoned_at_once(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    dead = leased_trial(study, f"{worker_id().rpartition(':')[0]}:{gone}")
    alive = leased_trial(study, worker_id())
    abandoned = [t._trial_id for t in StaleWatch(grace=60).abandoned(study)]
    assert abandoned == [dead] and alive not in abandoned


def test_a_dead_child_not_yet_waited_for_counts_as_gone() -> None:
    """A killed worker stays a zombie until its parent waits for it; it is still gone."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        assert owner_is_gone(f"{worker_id().rpartition(':')[0]}:{child.pid}")
    finally:
        child.wait()


def test_an_ownerless_running_trial_is_abandoned_too(url: str) -> None:
    """A trial made outside a claim (no lease at all) cannot stay RUNNING forever."""
    study = make_study(url, "s", n_trials=3, epochs=1)
    bare = study._storage.create_new_trial(study._study_id)
    watch = StaleWatch(grace=0.3)
    watch.abandoned(study)
    time.sleep(0.4)
    assert [t._trial_id for t in watch.abandoned(study)] == [bare]


def test_release_queues_the_parameters_again_with_clean_attributes(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    _, claimed = claim(study, url, 1, Holdings(), StaleWatch())
    trial = claimed[0].trial
    trial.set_user_attr(attrs.EPOCH_VALUES, [0.5, 0.6])
    assert release(study, [trial._trial_id], "test", retry=True) == [trial.number]
    failed = study._storage.get_trial(trial._trial_id)
    assert failed.state == TrialState.FAIL and failed.user_attrs[attrs.REASON] == "test"
    (queued,) = study.get_trials(states=(TrialState.WAITING,))
    assert queued.system_attrs[attrs.FIXED_PARAMS] == failed.params
    assert queued.user_attrs == {attrs.RETRY_OF: trial.number, attrs.ATTEMPT: 2}
    # The retry takes the failed trial's place in the count, and is claimed first.
    _, again = claim(study, url, 1, Holdings(), StaleWatch())
    assert again[0].trial._trial_id == queued._trial_id
    assert again[0].params == claimed[0].params


def test_a_trial_lost_before_sampling_is_failed_without_a_retry(url: str) -> None:
    """Nothing was sampled, so there is nothing to repeat: the study's next claim samples
    a fresh trial in its place."""
    study = make_study(url, "s", n_trials=3, epochs=1)
    bare = leased_trial(study, "gone:1")
    number = study._storage.get_trial(bare).number
    assert release(study, [bare], "lost", retry=True) == [number]
    assert study._storage.get_trial(bare).state == TrialState.FAIL
    assert study.get_trials(states=(TrialState.WAITING,)) == []


def test_a_parameter_set_is_dropped_after_its_last_attempt(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    trial_id = None
    for attempt in range(1, settings().max_attempts + 1):
        _, claimed = claim(study, url, 1, Holdings(), StaleWatch())
        frozen = study._storage.get_trial(claimed[0].trial._trial_id)
        assert frozen.user_attrs.get(attrs.ATTEMPT, 1) == attempt
        trial_id = frozen._trial_id
        release(study, [trial_id], "boom", retry=True)
    assert study.get_trials(states=(TrialState.WAITING,)) == []


def test_reap_fails_and_requeues_what_the_watch_finds(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    _, claimed = claim(study, url, 1, Holdings(), StaleWatch())
    study._storage.set_trial_user_attr(claimed[0].trial._trial_id, attrs.WORKER, "gone:1")
    watch = StaleWatch(grace=0.2)
    assert reap(study, watch) == []
    time.sleep(0.3)
    assert reap(study, watch) == [claimed[0].trial.number]
    assert running(study) == [] and len(study.get_trials(states=(TrialState.WAITING,))) == 1


def test_surplus_queued_trials_are_trimmed(url: str) -> None:
    """A retried enqueue can leave one queued trial too many; the next claim drops it."""
    study = make_study(url, "s", n_trials=2, epochs=1)
    for _ in range(3):
        study.enqueue_trial({"state_lr": 0.1}, user_attrs={attrs.RETRY_OF: 0, attrs.ATTEMPT: 2})
    _, claimed = claim(study, url, 5, Holdings(), StaleWatch())
    assert len(claimed) == 2
    trials = study.get_trials()
    assert sum(t.state == TrialState.FAIL for t in trials) == 1
    assert sum(t.state == TrialState.RUNNING for t in trials) == 2


def test_heartbeat_gives_up_a_trial_someone_else_finished(url: str) -> None:
    study = make_study(url, "s", n_trials=3, epochs=1)
    holdings = Holdings()
    _, claimed = claim(study, url, 1, holdings, StaleWatch())
    trial_id = claimed[0].trial._trial_id
    study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
    Heartbeat(holdings, interval=10).beat()
    assert trial_id in holdings.lost and holdings.snapshot() == []
