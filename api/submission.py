"""From a POST body to a :class:`StudyConfig`, with every problem pinned on its field.

The rules of a study's options live once, in :mod:`store.config`, which reports every
problem on the config field it concerns. Here is only what is about HTTP input: the
study name, a space name or an inline space (within size limits) turned into a
SearchSpace, and each problem mapped to its request field, so a 422 lists one message
per bad field under the ``loc`` of that field, with the value that was sent.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from api.errors import ApiError
from api.schemas import StudyCreate
from pcsearch.errors import PCSearchError
from search_spaces import SearchSpace, default_space, get_space
from store.config import Problem, StudyConfig, check_study_name, default_sampler, find_problems

MAX_SPACE_BYTES = 32 * 1024
MAX_SPACE_PARAMS = 64
MAX_CHOICES = 1000

REQUEST_FIELDS = {"overrides": "epochs"}
"""Config fields the request names otherwise; one the request lacks is reported on the body."""
ORDER = [*StudyCreate.model_fields, "body"]
"""A 422 lists its fields in the request's order."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    value: Any

    def as_detail(self) -> dict[str, Any]:
        """FastAPI's shape for one validation error."""
        loc = ["body"] if self.field == "body" else ["body", self.field]
        return {"loc": loc, "msg": self.message, "type": "value_error", "input": self.value}


class InvalidSubmission(ApiError):
    """A study request with bad fields: HTTP 422, one entry per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def default_name(task: str, algorithm: str) -> str:
    return check_study_name(f"{task}.{algorithm}-{secrets.token_hex(3)}")


def build_config(body: StudyCreate) -> StudyConfig:
    """The study's config; :class:`InvalidSubmission` lists every field that is wrong."""
    errors: list[FieldError] = []
    if body.name is not None:
        try:
            check_study_name(body.name)
        except PCSearchError as error:
            errors.append(FieldError("name", str(error), body.name))
    space, space_error = _space(body)
    options: dict[str, Any] = {
        "task": body.task,
        "algorithm": body.algorithm,
        "space": None if space is None else space.to_dict(),  # None: its checks are skipped
        "n_trials": body.n_trials,
        # Without a space no sampler check runs; "tpe" only fills the field.
        "sampler": body.sampler or (default_sampler(space) if space is not None else "tpe"),
        "pruner": body.pruner,
        "seed": body.seed,
        "overrides": {"epochs": body.epochs} if body.epochs is not None else {},
        "batch": body.batch,
        "objective": body.objective,
        "energy_trace": body.energy_trace,
        "warm_start": body.warm_start,
    }
    problems = find_problems(options)
    errors += [_field_error(problem, body) for problem in problems]
    # A default space fails for a bad task or algorithm too; their fields say so already.
    named_wrong = any(p.field in ("task", "algorithm") for p in problems)
    if space_error is not None and not (body.space is None and named_wrong):
        errors.append(space_error)
    if errors or space is None:
        errors = errors or [FieldError("space", "no usable space", body.space)]
        raise InvalidSubmission(sorted(errors, key=lambda e: ORDER.index(e.field)))
    return StudyConfig(**options)


def _field_error(problem: Problem, body: StudyCreate) -> FieldError:
    """A config problem on the request field it concerns, with the value that was sent."""
    field = REQUEST_FIELDS.get(problem.field, problem.field)
    if field not in StudyCreate.model_fields:
        field = "body"
    value = _shown(body.space) if field == "space" else getattr(body, field, None)
    return FieldError(field, problem.message, value)


def _space(body: StudyCreate) -> tuple[SearchSpace | None, FieldError | None]:
    """The space the request names, sends or leaves to the default; else why there is none.
    Whether it fits the task and algorithm is the config's check."""
    try:
        if body.space is None:
            return default_space(body.task, body.algorithm), None
        if isinstance(body.space, str):
            return get_space(body.space), None
        return _inline_space(body.space), None
    except PCSearchError as error:
        return None, FieldError("space", str(error), _shown(body.space))


def _shown(space: str | dict[str, Any] | None) -> Any:
    """What a 422 shows of the space sent: its name (an inline space's too)."""
    return space.get("name") if isinstance(space, dict) else space


def _inline_space(data: dict[str, Any]) -> SearchSpace:
    """A space sent as data, with bounds on what a request may ask the server to hold."""
    size = len(json.dumps(data))
    if size > MAX_SPACE_BYTES:
        raise ApiError(
            f"the inline space is {size} bytes of JSON; at most {MAX_SPACE_BYTES} are accepted "
            f"(trim descriptions or split the search)"
        )
    params = data.get("params")
    if isinstance(params, dict):
        if len(params) > MAX_SPACE_PARAMS:
            raise ApiError(
                f"the inline space has {len(params)} params; at most {MAX_SPACE_PARAMS} are "
                f"accepted"
            )
        for name, param in params.items():
            choices = param.get("choices") if isinstance(param, dict) else None
            if isinstance(choices, list) and len(choices) > MAX_CHOICES:
                raise ApiError(
                    f"parameter {name!r} has {len(choices)} choices; at most {MAX_CHOICES} "
                    f"are accepted"
                )
    return SearchSpace.from_dict(data)
