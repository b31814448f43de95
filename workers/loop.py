"""The worker loop: claim trials of a study, train, tell; survive bad trials and signals."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.trial import TrialState

from pcsearch.catalogue import HYPERPARAMETERS
from workers.config import CONFIG_ATTR, StudyConfig
from workers.errors import WorkerError
from workers.samplers import make_pruner, make_sampler
from workers.storage import HEARTBEAT_SECONDS, open_storage, slot_lock
from workers.trial_runner import run_batch, run_trial, training_params

log = logging.getLogger("pcsearch.worker")
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
WORKER_ATTR = "worker"


class Shutdown(BaseException):
    """Raised in the worker by SIGTERM/SIGINT so the current trials end as FAIL, cleanly."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def load_study(storage: optuna.storages.BaseStorage, name: str, seed: int):
    """The study with its own sampler and pruner, built from the config stored on it."""
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise WorkerError(
            f"study {name!r} does not exist in this storage; create it first"
        ) from None
    raw = study.user_attrs.get(CONFIG_ATTR)
    if raw is None:
        raise WorkerError(f"study {name!r} was not created by pcsearch (no {CONFIG_ATTR!r} attr)")
    config = StudyConfig.from_dict(raw)
    study.sampler = make_sampler(config, seed)
    study.pruner = make_pruner(config)
    return study, config


def claim(
    study: optuna.Study, config: StudyConfig, url: str, batch: int
) -> list[tuple[optuna.Trial, dict[str, Any]]]:
    """Ask up to ``batch`` trials, never more than the study still needs (under a lock)."""
    with slot_lock(url, study.study_name):
        free = config.n_trials - len(study.get_trials(deepcopy=False, states=COUNTED))
        if free <= 0:
            return []
        first = study.ask()
        claimed = [(first, training_params(config, first))]
        if min(batch, free) > 1:
            structural = {
                k: v
                for k, v in first.params.items()
                if not (k in HYPERPARAMETERS and HYPERPARAMETERS[k].traced)
            }
            base = study.sampler
            study.sampler = optuna.samplers.PartialFixedSampler(structural, base)
            try:
                for _ in range(min(batch, free) - 1):
                    trial = study.ask()
                    claimed.append((trial, training_params(config, trial)))
            finally:
                study.sampler = base
        for trial, _ in claimed:
            trial.set_user_attr(WORKER_ATTR, worker_id())
        return claimed


@contextmanager
def heartbeat(storage: optuna.storages.BaseStorage, trials: list[optuna.Trial]) -> Iterator[None]:
    """Keep RDB heartbeats alive while training so only dead workers' trials go stale."""
    if (
        not isinstance(storage, optuna.storages.RDBStorage)
        or storage.get_heartbeat_interval() is None
    ):
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            for t in trials:
                storage.record_heartbeat(t._trial_id)
            if stop.wait(HEARTBEAT_SECONDS):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def unfinished(study: optuna.Study, trials: list[optuna.Trial]) -> list[optuna.Trial]:
    """Those of ``trials`` still RUNNING (an error may come after some were told)."""
    running = {t._trial_id for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    return [t for t in trials if t._trial_id in running]


def fail(study: optuna.Study, trials: list[optuna.Trial], reason: str) -> None:
    for trial in unfinished(study, trials):
        trial.set_user_attr("status", "failed")
        trial.set_user_attr("reason", reason)
        study.tell(trial, state=TrialState.FAIL)


def too_many_failures(study: optuna.Study, config: StudyConfig) -> str | None:
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    errors = [t for t in failed if "error" in t.user_attrs]
    if len(errors) >= max(3, config.n_trials):
        return errors[-1].user_attrs["error"]
    return None


def run_study(
    url: str,
    name: str,
    *,
    seed: int = 0,
    batch: int | None = None,
    on_trial: Callable[[list[TrialState]], None] | None = None,
) -> int:
    """Work on one study until it has its trials; returns how many trials this worker ran."""
    storage = open_storage(url)
    study, config = load_study(storage, name, seed)
    k = batch or config.batch
    ran = 0
    while True:
        if isinstance(storage, optuna.storages.RDBStorage):
            optuna.storages.fail_stale_trials(study)
        last_error = too_many_failures(study, config)
        if last_error is not None:
            raise WorkerError(f"study {name!r}: too many trials failed; last error: {last_error}")
        trials: list[optuna.Trial] = []
        try:
            with shutdown_deferred():  # every asked trial is in ``trials`` before a Shutdown
                claimed = claim(study, config, url, k)
                trials = [t for t, _ in claimed]
            if not claimed:
                return ran
            try:
                with heartbeat(storage, trials):
                    if len(claimed) == 1:
                        states = [run_trial(study, trials[0], claimed[0][1], config)]
                    else:
                        states = run_batch(study, trials, [p for _, p in claimed], config)
            except Exception as error:  # a bad trial must not take the worker down
                log.exception("trial(s) %s failed", [t.number for t in trials])
                for t in unfinished(study, trials):
                    t.set_user_attr("error", f"{type(error).__name__}: {error}")
                fail(study, trials, f"error: {error}")
                states = [TrialState.FAIL] * len(trials)
        except Shutdown:
            fail(study, trials, "interrupted: the worker was stopped")
            raise
        ran += len(trials)
        if on_trial is not None:
            on_trial(states)


_deferring = False
_pending: list[str] = []


@contextmanager
def shutdown_deferred() -> Iterator[None]:
    """Hold a SIGTERM/SIGINT that arrives inside the block until its end. Claiming must not
    be cut short: a trial asked but not yet marked with its worker would stay RUNNING
    forever, holding one of the study's slots, with nobody to fail it."""
    global _deferring
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
    if _pending:
        raise Shutdown(_pending.pop())


def install_signal_handlers() -> None:
    def stop(signum: int, _frame: Any) -> None:
        if _deferring:
            _pending.append(signal.Signals(signum).name)
            return
        raise Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def pcsearch_studies(storage: optuna.storages.BaseStorage) -> list[str]:
    """Studies created by pcsearch, oldest first; ``run_study`` skips finished ones quickly."""
    return [
        s.study_name
        for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
        if CONFIG_ATTR in s.user_attrs
    ]


def serve(
    url: str, *, seed: int = 0, batch: int | None = None, poll: float = 5.0, once: bool = False
) -> None:
    """The service worker: keep taking trials from any pcsearch study that needs them."""
    storage = open_storage(url)
    while True:
        worked = 0
        for name in pcsearch_studies(storage):
            try:
                worked += run_study(url, name, seed=seed, batch=batch)
            except WorkerError as error:
                log.error("%s", error)
        if once:
            return
        if not worked:
            time.sleep(poll)
