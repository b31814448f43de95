"""Request and response bodies: the API's JSON contract, as its OpenAPI schema shows it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pcsearch.catalogue import ALGORITHMS, TASKS
from store import views
from store.config import NAME_RULE, PRUNERS, SAMPLERS

NAME_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SPACE_REGEX = r"^[a-z0-9]+(-[a-z0-9]+)*(@[0-9]{1,6})?$"
MAX_TRIALS, MAX_EPOCHS, MAX_BATCH = 100_000, 10_000, 256

TaskName = Literal[tuple(TASKS)]  # type: ignore[valid-type]
AlgorithmName = Literal[tuple(ALGORITHMS)]  # type: ignore[valid-type]
Sampler = Literal[SAMPLERS]  # type: ignore[valid-type]
Pruner = Literal[PRUNERS]  # type: ignore[valid-type]
TrialStateName = Literal[views.TRIAL_STATES]  # type: ignore[valid-type]
StudyState = Literal[views.STUDY_STATES]  # type: ignore[valid-type]


class StudyCreate(BaseModel):
    """A new study. Everything is checked before anything is stored."""

    model_config = ConfigDict(extra="forbid", strict=True)  # no true-as-1, no "3"-as-3

    name: str | None = Field(
        None,
        max_length=100,
        pattern=NAME_REGEX,
        description=f"Study name: {NAME_RULE}. Default: <task>.<algorithm>-<random suffix>.",
    )
    task: TaskName
    algorithm: AlgorithmName
    n_trials: int = Field(ge=1, le=MAX_TRIALS, description="Trials to finish (complete or pruned).")
    space: str | dict[str, Any] | None = Field(
        None,
        description="A space name (GET /api/v1/spaces), optionally name@version, or an inline "
        "space object shaped like GET /api/v1/spaces/{name}. Default: the algorithm's "
        "discriminative space for the task.",
    )
    sampler: Sampler | None = Field(None, description="Default: grid for grid spaces, else tpe.")
    pruner: Pruner = "median"
    epochs: int | None = Field(None, ge=1, le=MAX_EPOCHS, description="Default: the task's.")
    batch: int = Field(1, ge=1, le=MAX_BATCH, description="Trials a worker trains together.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    objective: Literal["best", "last"] = Field(
        "best",
        description="A trial's value: its best epoch's metric (the paper's rule, also for a "
        "run that diverged after a good epoch) or its last epoch's.",
    )
    energy_trace: bool = Field(
        False, description="Store each trial's energy per layer and inference step (PC)."
    )
    warm_start: bool = Field(
        True,
        description="The first trial runs the paper's best values for (task, algorithm), "
        "where the paper gives them; false: every trial is sampled.",
    )


class TrialCounts(BaseModel):
    running: int
    complete: int
    pruned: int
    fail: int
    waiting: int


class StudySummary(BaseModel):
    name: str
    task: str | None
    algorithm: str | None
    state: StudyState = Field(
        description="stopped or failing when set so, else complete (complete + pruned >= "
        "n_trials), running (a trial runs), or queued."
    )
    n_trials: int
    direction: Literal["maximize", "minimize"]
    trials: TrialCounts
    best_value: float | None


class BestTrial(BaseModel):
    number: int
    value: float
    params: dict[str, Any]
    epoch_values: list[float | None] = Field(description="The test metric after each epoch.")


class FailingWorker(BaseModel):
    worker: str
    reason: str | None = None
    failures: int | None = None
    at: str | None = None


class SkippingWorker(BaseModel):
    worker: str
    reason: str | None = None
    at: str | None = None
    retry_after_seconds: int | None = Field(
        None, description="How long after `at` the worker looks at the study again."
    )


class StudyDetail(StudySummary):
    spec: dict[str, Any] = Field(description="The study's configuration, as created.")
    best_trial: BestTrial | None
    failing_workers: list[FailingWorker] = Field(description="Workers that gave up on it.")
    skipping_workers: list[SkippingWorker] = Field(
        description="Workers that skip it for now, after an error they met in it."
    )


class StudyPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[StudySummary]


class Trial(BaseModel):
    number: int
    state: TrialStateName
    params: dict[str, Any]
    value: float | None
    status: str | None = Field(description="How the run ended: completed, diverged, failed...")
    reason: str | None
    worker: str | None
    epochs_done: int
    retry_of: int | None
    attempt: int
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    warm_start: str | None = Field(
        None, description="'paper' on a study's first trial when it runs the paper's values."
    )


class TrialPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[Trial]


class Task(BaseModel):
    name: str
    dataset: str
    model: str
    summary: str
    metric: str
    direction: Literal["maximize", "minimize"]
    defaults: dict[str, Any]


class Algorithm(BaseModel):
    name: str
    family: str
    summary: str
    output_loss: str
    implemented: bool


class SpaceSummary(BaseModel):
    name: str
    version: int
    ref: str = Field(description="name@version")
    kind: Literal["bayesian", "grid"]
    tasks: list[str]
    algorithms: list[str]
    source: str


class Space(BaseModel):
    name: str
    version: int
    source: str
    description: str
    kind: Literal["bayesian", "grid"]
    tasks: list[str]
    algorithms: list[str]
    params: dict[str, dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    schema_version: int | None = Field(description="Optuna's schema version (RDB storages).")


class Error(BaseModel):
    detail: str = Field(description="What went wrong and how to fix it.")


def _error(description: str) -> dict[str, Any]:
    return {"model": Error, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request cannot be served as asked."),
    401: _error("No token, or not one of the server's tokens."),
    413: _error("The request body is larger than the server accepts."),
    503: _error("The database cannot be reached now."),
}
NOT_FOUND = {404: _error("No such study.")}
CONFLICT = {409: _error("The name is taken, or trials are running.")}


def to_json(model: type[BaseModel], data: Any) -> bytes:
    """``data`` checked against ``model`` and serialised (by pydantic's core, in one pass)."""
    return model.model_validate(data).model_dump_json().encode()


def summary_dict(summary: views.StudySummary) -> dict[str, Any]:
    return {f.name: getattr(summary, f.name) for f in dataclasses.fields(views.StudySummary)} | {
        "trials": dataclasses.asdict(summary.trials)
    }


def detail_dict(detail: views.StudyDetail) -> dict[str, Any]:
    best = detail.best_trial
    return summary_dict(detail) | {
        "spec": detail.spec,
        "best_trial": dataclasses.asdict(best) if best is not None else None,
        "failing_workers": [
            {"worker": worker, **_failure(info)} for worker, info in detail.failing_workers.items()
        ],
        "skipping_workers": [
            {"worker": worker, **_skip(info)} for worker, info in detail.skipping_workers.items()
        ],
    }


def _skip(info: Any) -> dict[str, Any]:
    if not isinstance(info, dict):
        return {"reason": str(info)}
    after = info.get("retry_after_seconds")
    return {
        "reason": None if info.get("reason") is None else str(info["reason"]),
        "at": None if info.get("at") is None else str(info["at"]),
        "retry_after_seconds": after if isinstance(after, int) else None,
    }


def _failure(info: Any) -> dict[str, Any]:
    if not isinstance(info, dict):
        return {"reason": str(info)}
    failures = info.get("failures")
    return {
        "reason": None if info.get("reason") is None else str(info["reason"]),
        "failures": failures if isinstance(failures, int) else None,
        "at": None if info.get("at") is None else str(info["at"]),
    }


def page_dict(page: views.Page[Any], item: Any) -> dict[str, Any]:
    return {
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
        "items": [item(x) for x in page.items],
    }


def trial_dict(trial: views.TrialView) -> dict[str, Any]:
    return dataclasses.asdict(trial)
