"""Claiming trials: exactly ``n_trials`` in total across every worker, each one leased.

Under the study's slot lock a claim (1) fails abandoned trials and queues their
parameters again, (2) trims any surplus of queued trials, (3) takes queued retries first,
then (4) creates new trials, each written together with its lease, and samples their
parameters. A study's count is its COMPLETE, PRUNED, RUNNING and WAITING trials, so a
queued retry holds the place of the trial it repeats.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from pcsearch.catalogue import HYPERPARAMETERS
from store import attrs
from store.config import StudyConfig
from store.leases import Holdings, StaleWatch, leased_template, reap, release, worker_id
from store.storage import LockLost, slot_lock
from workers.fault_injection import crash_point
from workers.trial_runner import training_params

log = logging.getLogger("pcsearch.worker")
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass
class Claimed:
    trial: optuna.Trial
    params: dict[str, Any]


def structure(params: dict[str, Any]) -> tuple:
    """What trials must share to train together: every parameter that is not traced."""
    return tuple(
        sorted(
            (k, v)
            for k, v in params.items()
            if not (k in HYPERPARAMETERS and HYPERPARAMETERS[k].traced)
        )
    )


def claim(
    study: optuna.Study,
    url: str,
    batch: int | None,
    holdings: Holdings,
    watch: StaleWatch,
    stopping: threading.Event | None = None,
) -> tuple[StudyConfig | None, list[Claimed]]:
    """Up to ``batch`` (default: the study's) trials for this worker, never more than the
    study still needs; the study's current config, or None when it is not active.

    Only the count and the trials' creation need the lock; parameters are sampled after
    it is released, so claims of many workers queue for milliseconds, not for sampling.
    A grid point is the exception: it is chosen as its trial is created, under the lock
    (``store.samplers.WorkerGridSampler``), so no two workers take the same point.
    """
    config: StudyConfig | None = None
    taken: list[optuna.Trial] = []
    try:
        with slot_lock(url, study.study_name):
            stored = attrs.stored(study)
            if stored.control != attrs.ACTIVE:
                return None, []
            config = StudyConfig.from_dict(stored.config)
            if watch.due():
                reap(study, watch)
            trials = study.get_trials(deepcopy=False, states=COUNTED)
            _trim(study, trials, config.n_trials)
            waiting = [t for t in trials if t.state == TrialState.WAITING]
            free = max(0, config.n_trials - len(trials)) + len(waiting)
            for _ in range(min(_batch_size(config, batch), free)):
                if stopping is not None and stopping.is_set():
                    break  # the worker is being stopped: take nothing more to give back
                taken.append(_next_trial(study, waiting, holdings))
                crash_point("after-create")
    except LockLost:
        _recount_after_lost_lock(study, config, taken, holdings)
    if config is None:
        return None, []
    claimed: list[Claimed] = []
    try:
        for trial in taken:
            fixed = structure(claimed[0].params) if claimed else None
            claimed.append(Claimed(trial, _sample(study, config, trial, fixed)))
    except BaseException:
        release(study, [t._trial_id for t in taken], "error while sampling", retry=False)
        holdings.drop(t._trial_id for t in taken)
        raise
    return config, claimed


def _batch_size(config: StudyConfig, batch: int | None) -> int:
    """A worker's ``--batch`` overrides the study's, except on a grid: a batch's members
    share their structure, which would overrule the grid points they were given."""
    return 1 if config.sampler == "grid" else batch or config.batch


def _next_trial(
    study: optuna.Study, waiting: list[FrozenTrial], holdings: Holdings
) -> optuna.Trial:
    """A queued retry if there is one (it is popped, then leased), else a new leased trial."""
    storage = study._storage
    owner = worker_id()
    while waiting:
        frozen = waiting.pop(0)
        try:
            if not storage.set_trial_state_values(frozen._trial_id, TrialState.RUNNING):
                continue
        except UpdateFinishedTrialError:
            continue
        crash_point("after-pop")
        storage.set_trial_user_attr(frozen._trial_id, attrs.WORKER, owner)
        storage.set_trial_system_attr(frozen._trial_id, attrs.BEAT, 0)
        holdings.add(study, [frozen._trial_id])
        return _open(study, frozen._trial_id)
    trial_id = storage.create_new_trial(study._study_id, template_trial=leased_template(owner))
    holdings.add(study, [trial_id])
    return _open(study, trial_id)


def _open(study: optuna.Study, trial_id: int) -> optuna.Trial:
    # ``Study.ask`` drops the study's per-thread trial cache before each new trial so the
    # sampler sees the latest history; trials made here need the same.
    study._thread_local.cached_all_trials = None
    return optuna.Trial(study, trial_id)


def _sample(
    study: optuna.Study, config: StudyConfig, trial: optuna.Trial, fixed: tuple | None
) -> dict[str, Any]:
    """The trial's parameters; batch members after the first share its structure (a queued
    retry keeps its own, and may differ: the runner trains each structure separately)."""
    if not fixed:
        return training_params(config, trial)
    base = study.sampler
    with warnings.catch_warnings():  # experimental in name only: stable since Optuna 2.4
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.sampler = optuna.samplers.PartialFixedSampler(dict(fixed), base)
    try:
        return training_params(config, trial)
    finally:
        study.sampler = base


def _trim(study: optuna.Study, counted: list[FrozenTrial], n_trials: int) -> None:
    """Fail queued trials beyond the study's count (left by a retried write)."""
    surplus = len(counted) - n_trials
    queued = [t for t in counted if t.state == TrialState.WAITING]
    for trial in queued[::-1][: max(0, surplus)]:
        try:
            study._storage.set_trial_user_attr(trial._trial_id, attrs.REASON, "not needed")
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue
        counted.remove(trial)


def _recount_after_lost_lock(
    study: optuna.Study, config: StudyConfig | None, taken: list[optuna.Trial], holdings: Holdings
) -> None:
    """The lock's connection died while we claimed, so another worker may have claimed at
    the same time; give back what this claim took if the study is now over its count."""
    counted = study.get_trials(deepcopy=False, states=COUNTED)
    if taken and (config is None or len(counted) > config.n_trials):
        log.warning("slot lock lost during a claim; giving back %d trial(s)", len(taken))
        release(study, [t._trial_id for t in taken], "claim lost its lock", retry=False)
        holdings.drop(t._trial_id for t in taken)
        taken.clear()
