"""The rows a person sees of studies and trials: declared once, read by the CLI, answered
by the API as they are (its OpenAPI schemas are made from them) and mirrored field for
field by the Python client. :mod:`store.views` fills them from a storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from optuna.trial import TrialState

from pcsearch.catalogue.task_types import Direction

TrialStateName = Literal["running", "complete", "pruned", "fail", "waiting"]
"""A trial's state as the API and the CLI name it: Optuna's ``TrialState``, in lower case."""
TRIAL_STATES: tuple[TrialStateName, ...] = get_args(TrialStateName)
StudyState = Literal["queued", "running", "complete", "stopped", "failing"]
STUDY_STATES: tuple[StudyState, ...] = get_args(StudyState)


def _doc(description: str, **options: Any) -> Any:
    """A field with a description for the API's readers: pydantic reads a dataclass
    field's ``description`` metadata into the OpenAPI document (attribute docstrings
    would not reach a subclass such as :class:`StudyDetail`)."""
    return field(metadata={"description": description}, **options)


@dataclass(frozen=True)
class TrialCounts:
    """How many of a study's trials are in each state."""

    __pydantic_config__ = {"json_schema_serialization_defaults_required": True}
    """The defaults are for Python callers; the API always sends every count."""

    running: int = 0
    complete: int = 0
    pruned: int = 0
    fail: int = 0
    waiting: int = 0

    @property
    def done(self) -> int:
        """Trials that count towards a study's ``n_trials``."""
        return self.complete + self.pruned

    @classmethod
    def of(cls, counts: Mapping[TrialState, int]) -> TrialCounts:
        return cls(**{state.name.lower(): n for state, n in counts.items()})


@dataclass(frozen=True)
class StudySummary:
    """A study as a list of studies shows it."""

    name: str
    task: str | None
    algorithm: str | None
    state: StudyState = _doc(
        "stopped or failing when set so, else complete (complete + pruned >= n_trials), "
        "running (a trial runs), or queued."
    )
    n_trials: int
    direction: Direction
    trials: TrialCounts
    best_value: float | None


@dataclass(frozen=True)
class BestTrial:
    """The study's best complete trial (the earliest on a tie)."""

    number: int
    value: float
    params: dict[str, Any]
    epoch_values: list[float | None] = _doc("The test metric after each epoch.")


@dataclass(frozen=True)
class FailingWorker:
    """A worker that gave up on the study, and why."""

    worker: str
    reason: str | None = None
    failures: int | None = None
    at: str | None = None


@dataclass(frozen=True)
class SkippingWorker:
    """A worker that leaves the study alone for now, and why."""

    worker: str
    reason: str | None = None
    at: str | None = None
    retry_after_seconds: int | None = _doc(
        "How long after `at` the worker looks at the study again.", default=None
    )


@dataclass(frozen=True)
class StudyDetail(StudySummary):
    """Everything about one study."""

    spec: dict[str, Any] = _doc("The study's configuration, as created.")
    best_trial: BestTrial | None
    failing_workers: list[FailingWorker] = _doc("Workers that gave up on it.")
    skipping_workers: list[SkippingWorker] = _doc(
        "Workers that skip it for now, after an error they met in it."
    )


@dataclass(frozen=True)
class Trial:
    """One trial of a study, as a page of trials shows it."""

    number: int
    state: TrialStateName
    params: dict[str, Any]
    value: float | None
    status: str | None = _doc("How the run ended: completed, diverged, failed...")
    reason: str | None
    worker: str | None
    epochs_done: int
    retry_of: int | None
    attempt: int
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    warm_start: str | None = _doc(
        "'paper' on a study's first trial when it runs the paper's values.", default=None
    )


@dataclass(frozen=True)
class Page:
    """A slice of a longer list: at most ``limit`` items from ``offset`` on, of ``total``."""

    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class StudyPage(Page):
    items: list[StudySummary]


@dataclass(frozen=True)
class TrialPage(Page):
    items: list[Trial]
