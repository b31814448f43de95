"""Study logic shared by every shell: create or resume, stop, resume, delete, give up.

The CLI and the HTTP API are thin adapters over these functions; Optuna's storage is the
only place the state lives (see :mod:`store.attrs` for the keys).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import optuna
from optuna.exceptions import DuplicatedStudyError
from optuna.trial import TrialState

from pcsearch.catalogue import task_info
from store import attrs, warm_start
from store.config import StudyConfig, check_study_name
from store.errors import StoreError
from store.samplers import SAMPLERS


class StudyNotFound(StoreError):
    """No study of that name."""


class StudyExists(StoreError):
    """The name is taken."""


class StudyBusy(StoreError):
    """The study has running trials and the action would cut them off."""


def load(
    storage: optuna.storages.BaseStorage, name: str, upgrade: bool = False
) -> tuple[optuna.Study, StudyConfig]:
    """The study and the config stored on it. With ``upgrade`` (workers, and the API's
    writes), a study made by an older pcsearch gets what the dashboard shows right."""
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise StudyNotFound(
            f"study {name!r} does not exist in this storage; create it first"
        ) from None
    found = attrs.stored(study)
    if not found.made_by_pcsearch or found.config is None:
        raise StoreError(
            f"study {name!r} was not created by pcsearch (no {attrs.DESCRIPTION!r} attribute "
            f"or no stored config); open it with optuna-dashboard instead"
        )
    try:
        config = StudyConfig.from_dict(found.config)
    except StoreError as error:
        raise StoreError(f"study {name!r}: {error}") from None
    if upgrade:
        _upgrade(study, found, config)
    return study, config


def _upgrade(study: optuna.Study, found: attrs.Stored, config: StudyConfig) -> None:
    """The metric's name, and no ``status: active`` in the dashboard, on an older study.

    Only writes that cannot undo a concurrent one: the metric follows from the task (fixed
    for a study's life), and an old ``active`` flag means what no flag means. Moving an
    old config is left to :func:`create_or_resume`, the config's one writer, so that a
    resume changing ``n_trials`` meanwhile is never overwritten with the old value.
    """
    if attrs.METRIC_NAMES not in found.system_attrs:
        _set_attrs(study, _metric_names(config), system=True)
    if found.user_attrs.get(attrs.STATUS) == attrs.ACTIVE:
        study.set_user_attr(attrs.STATUS, None)


def _metric_names(config: StudyConfig) -> dict[str, list[str]]:
    """The objective's name (``accuracy``, ``mse``, ``mmd``), which the dashboard shows
    instead of "Objective 0": the system attribute ``Study.set_metric_names`` writes."""
    return {attrs.METRIC_NAMES: [task_info(config.task).metric]}


DESCRIPTION_MAX = 160


def describe(config: StudyConfig) -> str:
    """The study in one line for people (the dashboard's study list)."""
    trials = f"{config.n_trials} trial" + "s" * (config.n_trials != 1)
    parts = [f"{config.algorithm} on {config.task}", trials, SAMPLERS[config.sampler].title]
    parts.append(f"space {config.search_space().ref}")
    if config.rerun_of:
        parts.append(f"rerun of {config.rerun_of}")
    if config.seeds:
        parts.append("seeds " + ",".join(str(s) for s in config.seeds))
    else:
        parts.append(f"seed {config.seed}")
    parts += [f"{k}={v}" for k, v in sorted(config.overrides.items())]
    if config.synthetic:
        parts.append("synthetic data")
    line = ", ".join(parts)
    return line if len(line) <= DESCRIPTION_MAX else line[: DESCRIPTION_MAX - 3] + "..."


def _describe(study: optuna.Study, config: StudyConfig) -> None:
    """Store the config and make the study active (system attributes, for machines), then
    its description and flat copies of what a person filters by in the dashboard.

    In that order: the description marks the study as pcsearch's, and on an older study it
    replaces the config it held, so the config must be in its new place first.
    """
    _set_attrs(
        study,
        {
            attrs.STORED_CONFIG: config.to_dict(),
            attrs.CONTROL: attrs.ACTIVE,
            **_metric_names(config),
        },
        system=True,
    )
    shown: dict[str, Any] = {
        attrs.DESCRIPTION: describe(config),
        attrs.TASK: config.task,
        attrs.ALGORITHM: config.algorithm,
        attrs.SPACE: config.search_space().ref,
    }
    if study.user_attrs.get(attrs.STATUS) is not None:
        shown[attrs.STATUS] = None  # an older study's flag, now in CONTROL
    _set_attrs(study, shown)


def _set_attrs(study: optuna.Study, values: dict[str, Any], system: bool = False) -> None:
    """One write where the storage allows it (see ResilientStorage), else one per key."""
    storage = study._storage
    many = "set_study_system_attrs" if system else "set_study_user_attrs"
    if hasattr(storage, many):
        getattr(storage, many)(study._study_id, values)
        return
    set_one = storage.set_study_system_attr if system else storage.set_study_user_attr
    for key, value in values.items():
        set_one(study._study_id, key, value)


def create(storage: optuna.storages.BaseStorage, name: str, config: StudyConfig) -> optuna.Study:
    """A new study; :class:`StudyExists` when the name is taken."""
    check_study_name(name)
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction=config.direction)
    except DuplicatedStudyError:
        raise StudyExists(f"study {name!r} already exists; pick another name") from None
    _start(study, config)
    return study


def _start(study: optuna.Study, config: StudyConfig) -> None:
    """A new study's attributes, then its queued trials: a rerun's seeds, or the paper's
    values as the first trial (:mod:`store.warm_start`)."""
    _describe(study, config)
    enqueue_seeds(study, config)
    warm_start.enqueue(study, config)


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
    stored = attrs.stored(study).config
    if stored is None:
        if study.trials:
            raise StoreError(
                f"study {name!r} already exists and was not made by pcsearch; pick another --study"
            )
        wanted = optuna.study.StudyDirection[config.direction.upper()]
        if study.direction != wanted:
            raise StoreError(
                f"study {name!r} already exists (made by another tool) with direction "
                f"{study.direction.name.lower()}, but task {config.task!r} must "
                f"{config.direction} its metric; pick another --study name or delete that study"
            )
        _start(study, config)
        return study
    differing = [f for f in RESUMABLE_FIELDS if stored.get(f) != config.to_dict()[f]]
    if differing:
        raise StoreError(
            f"study {name!r} exists with different {', '.join(differing)}; resume it with the "
            f"same settings, or start a new study with another --study name"
        )
    _describe(study, config)  # e.g. more trials, another batch
    _forget_failures(study)
    return study


def status(study: optuna.Study) -> str:
    """The control flag (active, stopped, failing), not the study's state."""
    return attrs.stored(study).control


def _set_control(study: optuna.Study, value: str) -> None:
    """The flag in its system attribute, then an older study's user attribute cleared
    (it would win while set)."""
    study._storage.set_study_system_attr(study._study_id, attrs.CONTROL, value)
    if study.user_attrs.get(attrs.STATUS) is not None:
        study.set_user_attr(attrs.STATUS, None)


def stop(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """Workers take no new trial of the study; running ones finish."""
    study, _ = load(storage, name, upgrade=True)
    _set_control(study, attrs.STOPPED)
    return study


def resume(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """Workers take the study's trials again, including those that had given up on it."""
    study, _ = load(storage, name, upgrade=True)
    _forget_failures(study)
    _set_control(study, attrs.ACTIVE)
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
        _set_control(study, attrs.FAILING)
        return True
    return False


def _forget_failures(study: optuna.Study) -> None:
    forgotten = {attrs.FAILING_PREFIX + w: None for w in failing_workers(study.user_attrs)}
    if forgotten:
        _set_attrs(study, forgotten)


def pcsearch_studies(storage: optuna.storages.BaseStorage) -> list[optuna.study.FrozenStudy]:
    """Studies made by pcsearch, oldest first."""
    return [s for s in storage.get_all_studies() if attrs.stored(s).made_by_pcsearch]
