"""Study logic shared by every shell: create or resume, stop, resume, delete, give up.

The CLI and the HTTP API are thin adapters over these functions; Optuna's storage is the
only place the state lives (see :mod:`workers.attrs` for the keys).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import optuna
from optuna.exceptions import DuplicatedStudyError
from optuna.trial import TrialState

from workers import attrs
from workers.config import StudyConfig, check_study_name
from workers.errors import WorkerError


class StudyNotFound(WorkerError):
    """No study of that name."""


class StudyExists(WorkerError):
    """The name is taken."""


class StudyBusy(WorkerError):
    """The study has running trials and the action would cut them off."""


def load(storage: optuna.storages.BaseStorage, name: str) -> tuple[optuna.Study, StudyConfig]:
    """The study and the config stored on it."""
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise StudyNotFound(
            f"study {name!r} does not exist in this storage; create it first"
        ) from None
    raw = study.user_attrs.get(attrs.CONFIG)
    if raw is None:
        raise WorkerError(f"study {name!r} was not created by pcsearch (no {attrs.CONFIG!r} attr)")
    try:
        return study, StudyConfig.from_dict(raw)
    except WorkerError as error:
        raise WorkerError(f"study {name!r}: {error}") from None


def _describe(study: optuna.Study, config: StudyConfig) -> None:
    """The config, and flat copies of what a person filters by in the dashboard."""
    _set_attrs(
        study,
        {
            attrs.CONFIG: config.to_dict(),
            attrs.TASK: config.task,
            attrs.ALGORITHM: config.algorithm,
            attrs.SPACE: config.search_space().ref,
            attrs.STATUS: attrs.ACTIVE,
        },
    )


def _set_attrs(study: optuna.Study, values: dict[str, Any]) -> None:
    """One write where the storage allows it (see ResilientStorage), else one per key."""
    storage = study._storage
    if hasattr(storage, "set_study_user_attrs"):
        storage.set_study_user_attrs(study._study_id, values)
    else:
        for key, value in values.items():
            study.set_user_attr(key, value)


def create(storage: optuna.storages.BaseStorage, name: str, config: StudyConfig) -> optuna.Study:
    """A new study; :class:`StudyExists` when the name is taken."""
    check_study_name(name)
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction=config.direction)
    except DuplicatedStudyError:
        raise StudyExists(f"study {name!r} already exists; pick another name") from None
    _describe(study, config)
    enqueue_seeds(study, config)
    return study


def enqueue_seeds(study: optuna.Study, config: StudyConfig) -> None:
    """A rerun study's trials: one queued trial per seed that no live trial has yet."""
    if not config.seeds:
        return
    taken = {
        t.user_attrs.get(attrs.SEED)
        for t in study.get_trials(deepcopy=False)
        if t.state != TrialState.FAIL
    }
    for seed in config.seeds:
        if seed not in taken:
            study.enqueue_trial({}, user_attrs={attrs.SEED: seed, attrs.DATA_SEED: seed})


RESUMABLE_FIELDS = (
    "task", "algorithm", "space", "sampler", "pruner", "seed", "overrides", "objective", "seeds",
)  # fmt: skip


def create_or_resume(
    storage: optuna.storages.BaseStorage, name: str, config: StudyConfig
) -> optuna.Study:
    """A new study with ``config``; an existing one must have been made for the same
    search. Resuming makes the study active again and forgets workers that gave up."""
    check_study_name(name)
    study = optuna.create_study(
        study_name=name, storage=storage, direction=config.direction, load_if_exists=True
    )
    stored = study.user_attrs.get(attrs.CONFIG)
    if stored is None:
        if study.trials:
            raise WorkerError(
                f"study {name!r} already exists and was not made by pcsearch; pick another --study"
            )
        wanted = optuna.study.StudyDirection[config.direction.upper()]
        if study.direction != wanted:
            raise WorkerError(
                f"study {name!r} already exists (made by another tool) with direction "
                f"{study.direction.name.lower()}, but task {config.task!r} must "
                f"{config.direction} its metric; pick another --study name or delete that study"
            )
        _describe(study, config)
        enqueue_seeds(study, config)
        return study
    differing = [f for f in RESUMABLE_FIELDS if stored.get(f) != config.to_dict()[f]]
    if differing:
        raise WorkerError(
            f"study {name!r} exists with different {', '.join(differing)}; resume it with the "
            f"same settings, or start a new study with another --study name"
        )
    _describe(study, config)  # e.g. more trials, another batch
    _forget_failures(study)
    return study


def status(study: optuna.Study) -> str:
    return study.user_attrs.get(attrs.STATUS) or attrs.ACTIVE


def stop(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """Workers take no new trial of the study; running ones finish."""
    study, _ = load(storage, name)
    study.set_user_attr(attrs.STATUS, attrs.STOPPED)
    return study


def resume(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """Workers take the study's trials again, including those that had given up on it."""
    study, _ = load(storage, name)
    _forget_failures(study)
    study.set_user_attr(attrs.STATUS, attrs.ACTIVE)
    return study


def delete(storage: optuna.storages.BaseStorage, name: str, force: bool = False) -> None:
    """Delete the study and its trials; refused while trials run unless ``force``."""
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        raise StudyNotFound(f"study {name!r} does not exist in this storage") from None
    if not force:
        running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        if running:
            raise StudyBusy(
                f"study {name!r} has {len(running)} running trial(s); stop it and wait, or "
                f"delete with force (their workers then drop them)"
            )
    storage.delete_study(study_id)


def failing_workers(user_attrs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Workers that gave up on the study, by worker id, each with its reason."""
    prefix = attrs.FAILING_PREFIX
    return {
        key.removeprefix(prefix): value
        for key, value in user_attrs.items()
        if key.startswith(prefix) and value
    }


def give_up(study: optuna.Study, worker: str, reason: str, failures: int, threshold: int) -> bool:
    """Record that ``worker`` stopped taking the study; mark the study failing once
    ``threshold`` workers have. Returns whether the study is now failing."""
    study.set_user_attr(
        attrs.FAILING_PREFIX + worker,
        {
            "reason": reason,
            "failures": failures,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )
    if len(failing_workers(study.user_attrs)) >= threshold:
        study.set_user_attr(attrs.STATUS, attrs.FAILING)
        return True
    return False


def _forget_failures(study: optuna.Study) -> None:
    forgotten = {attrs.FAILING_PREFIX + w: None for w in failing_workers(study.user_attrs)}
    if forgotten:
        _set_attrs(study, forgotten)


def pcsearch_studies(storage: optuna.storages.BaseStorage) -> list[optuna.study.FrozenStudy]:
    """Studies made by pcsearch, oldest first."""
    return [s for s in storage.get_all_studies() if attrs.CONFIG in s.user_attrs]
