"""Creating (or resuming) a pcsearch study in an Optuna storage."""

from __future__ import annotations

import os
import socket

import optuna
from optuna.trial import TrialState

from workers.config import CONFIG_ATTR, StudyConfig
from workers.errors import WorkerError
from workers.loop import WORKER_ATTR
from workers.storage import open_storage

RESUMABLE_FIELDS = ("task", "algorithm", "space", "sampler", "pruner", "seed", "overrides")


def create_or_resume(url: str, name: str, config: StudyConfig) -> optuna.Study:
    """A new study with ``config``; an existing one must have been made for the same search."""
    storage = open_storage(url)
    study = optuna.create_study(
        study_name=name, storage=storage, direction=config.direction, load_if_exists=True
    )
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        if study.trials:
            raise WorkerError(
                f"study {name!r} already exists and was not made by pcsearch; pick another --study"
            )
        study.set_user_attr(CONFIG_ATTR, config.to_dict())
        return study
    differing = [f for f in RESUMABLE_FIELDS if stored.get(f) != config.to_dict()[f]]
    if differing:
        raise WorkerError(
            f"study {name!r} exists with different {', '.join(differing)}; resume it with the "
            f"same settings, or start a new study with another --study name"
        )
    if stored != config.to_dict():
        study.set_user_attr(CONFIG_ATTR, config.to_dict())  # e.g. more trials, another batch
    return study


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_orphaned_trials(study: optuna.Study) -> int:
    """Fail RUNNING trials whose local worker process is gone (killed, machine restarted).

    Journal storage has no heartbeats, so the embedded search cleans up after its own
    workers; remote workers on Postgres are covered by heartbeats instead.
    """
    host = socket.gethostname()
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get(WORKER_ATTR, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            optuna.Trial(study, trial._trial_id).set_user_attr("reason", "worker process died")
            study.tell(trial.number, state=TrialState.FAIL)
            failed += 1
    return failed
