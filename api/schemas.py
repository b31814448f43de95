"""Request and response bodies: the API's JSON contract, as its OpenAPI schema shows it.

The study and trial rows it answers are :mod:`store.views`' own dataclasses (the routes'
response models), declared once there; here are the API's own bodies: a new study, the
catalogue, health and errors.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from pcsearch.catalogue import ALGORITHMS, TASKS
from pcsearch.catalogue.task_types import Direction
from search_spaces.schema import SpaceKind
from store import rows
from store.config import NAME_RULE, PRUNERS, SAMPLERS, Objective

NAME_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SPACE_REGEX = r"^[a-z0-9]+(-[a-z0-9]+)*(@[0-9]{1,6})?$"
MAX_TRIALS, MAX_EPOCHS, MAX_BATCH = 100_000, 10_000, 256

TaskName = Literal[tuple(TASKS)]  # type: ignore[valid-type]
AlgorithmName = Literal[tuple(ALGORITHMS)]  # type: ignore[valid-type]
Sampler = Literal[SAMPLERS]  # type: ignore[valid-type]
Pruner = Literal[PRUNERS]  # type: ignore[valid-type]


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
    objective: Objective = Field(
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


class Task(BaseModel):
    name: str
    dataset: str
    model: str
    summary: str
    metric: str
    direction: Direction
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
    kind: SpaceKind
    tasks: list[str]
    algorithms: list[str]
    source: str


class Space(BaseModel):
    name: str
    version: int
    source: str
    description: str
    kind: SpaceKind
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


def to_json(row: Any) -> bytes:
    """A row of :mod:`store.views` as the API answers it, serialised by pydantic's core in
    one pass. A value that does not fit the row's declared type is an error (a 500), never
    an answer that breaks the documented schema."""
    return _adapter(type(row)).dump_json(row, warnings="error")


def detail_dict(detail: rows.StudyDetail) -> dict[str, Any]:
    """What GET /api/v1/studies/{name} answers for ``detail``, as JSON data."""
    return _adapter(rows.StudyDetail).dump_python(detail, mode="json", warnings="error")


@functools.cache
def _adapter(row: type) -> TypeAdapter[Any]:
    return TypeAdapter(row)
