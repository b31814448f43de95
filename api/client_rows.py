"""The rows the API's Python client returns: frozen dataclasses that mirror the server's
(:mod:`store.rows`) field for field, built from its JSON."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, ClassVar, TypeVar

from api.client_errors import not_ours

R = TypeVar("R", bound="_Row")


def _datetime(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class _Row:
    """A row read from the server's JSON. Keys this client does not know (a newer server)
    are tolerated and kept: :meth:`to_json` gives the answer back as it came."""

    _convert: ClassVar[dict[str, Callable[[Any], Any]]] = {}
    """Field -> how to build it from its (non-null) JSON value."""

    @classmethod
    def from_json(cls: type[R], data: Any) -> R:
        if not isinstance(data, Mapping):
            raise not_ours(f"a {cls.__name__} that is not a JSON object ({data!r:.60})")
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                value, convert = data[f.name], cls._convert.get(f.name)
                try:
                    values[f.name] = value if convert is None or value is None else convert(value)
                except (TypeError, ValueError) as error:
                    raise not_ours(f"{cls.__name__}.{f.name} = {value!r:.60} ({error})") from None
            elif f.default is MISSING and f.default_factory is MISSING:
                raise not_ours(f"a {cls.__name__} without {f.name!r}")
        row = cls(**values)
        object.__setattr__(row, "_json", dict(data))
        return row

    def to_json(self) -> dict[str, Any]:
        """The JSON this row was read from (keys this client does not know included); for a
        row made in Python, its fields as JSON."""
        raw = self.__dict__.get("_json")
        if raw is not None:
            return copy.deepcopy(raw)
        return json.loads(json.dumps(asdict(self), default=_iso))  # type: ignore[call-overload]


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _rows(row: type[R]) -> Callable[[Any], list[R]]:
    def build(values: Any) -> list[R]:
        if not isinstance(values, list):
            raise ValueError("not a list")
        return [row.from_json(v) for v in values]

    return build


@dataclass(frozen=True)
class TrialCounts(_Row):
    """How many of a study's trials are in each state."""

    running: int = 0
    complete: int = 0
    pruned: int = 0
    fail: int = 0
    waiting: int = 0

    @property
    def done(self) -> int:
        """Trials that count towards a study's ``n_trials``."""
        return self.complete + self.pruned


@dataclass(frozen=True)
class StudySummary(_Row):
    """A study as a list of studies shows it."""

    name: str
    task: str | None
    algorithm: str | None
    state: str
    """queued, running, complete, stopped or failing."""
    n_trials: int
    direction: str
    """maximize or minimize."""
    trials: TrialCounts
    best_value: float | None

    _convert: ClassVar[dict[str, Callable[[Any], Any]]] = {"trials": TrialCounts.from_json}


@dataclass(frozen=True)
class BestTrial(_Row):
    """The study's best complete trial (the earliest on a tie)."""

    number: int
    value: float
    params: dict[str, Any]
    epoch_values: list[float | None]
    """The test metric after each epoch."""


@dataclass(frozen=True)
class FailingWorker(_Row):
    """A worker that gave up on the study, and why."""

    worker: str
    reason: str | None = None
    failures: int | None = None
    at: str | None = None


@dataclass(frozen=True)
class SkippingWorker(_Row):
    """A worker that leaves the study alone for now, and why."""

    worker: str
    reason: str | None = None
    at: str | None = None
    retry_after_seconds: int | None = None
    """How long after ``at`` the worker looks at the study again."""


@dataclass(frozen=True)
class Study(StudySummary):
    """Everything about one study (the server's ``StudyDetail``)."""

    spec: dict[str, Any]
    """The study's configuration, as created."""
    best_trial: BestTrial | None
    failing_workers: list[FailingWorker]
    skipping_workers: list[SkippingWorker]

    _convert: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "trials": TrialCounts.from_json,
        "best_trial": BestTrial.from_json,
        "failing_workers": _rows(FailingWorker),
        "skipping_workers": _rows(SkippingWorker),
    }


@dataclass(frozen=True)
class Trial(_Row):
    """One trial of a study."""

    number: int
    state: str
    """running, complete, pruned, fail or waiting."""
    params: dict[str, Any]
    value: float | None
    status: str | None
    """How the run ended: completed, diverged, failed..."""
    reason: str | None
    worker: str | None
    epochs_done: int
    retry_of: int | None
    attempt: int
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    warm_start: str | None = None
    """'paper' on a study's first trial when it runs the paper's values."""

    _convert: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "started_at": _datetime,
        "completed_at": _datetime,
    }
