"""From a POST body to a :class:`StudyConfig`, with every problem pinned on its field.

StudyConfig and the search spaces raise one error at a time, with a message but no field;
here each piece is checked on its own so a 422 lists one message per bad field, under the
``loc`` of that field, with the value that was sent.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from api.errors import ApiError
from api.schemas import StudyCreate
from pcsearch.catalogue import algorithm_info, check_supported, task_info
from pcsearch.errors import PCSearchError
from pcsearch.params import resolve
from search_spaces import SearchSpace, default_space, get_space
from store.config import StudyConfig, check_study_name

T = TypeVar("T")

MAX_SPACE_BYTES = 32 * 1024
MAX_SPACE_PARAMS = 64
MAX_CHOICES = 1000


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

    def check(field: str, value: Any, step: Callable[[], T]) -> tuple[bool, T | None]:
        try:
            return True, step()
        except PCSearchError as error:
            errors.append(FieldError(field, str(error), value))
            return False, None

    if body.name is not None:
        check("name", body.name, lambda: check_study_name(body.name))
    task_ok, _ = check("task", body.task, lambda: task_info(body.task))
    algorithm_ok, _ = check("algorithm", body.algorithm, lambda: algorithm_info(body.algorithm))
    if task_ok and algorithm_ok:  # e.g. mcpc samples: it cannot train a classifier
        check_pair = lambda: check_supported(body.task, body.algorithm)
        algorithm_ok, _ = check("algorithm", body.algorithm, check_pair)
    pair_ok = task_ok and algorithm_ok
    space = _space(body, pair_ok, check)
    sampler = body.sampler
    if space is not None:
        sampler = sampler or ("grid" if space.kind == "grid" else "tpe")
        if (space.kind == "grid") != (sampler == "grid"):
            errors.append(
                FieldError(
                    "sampler",
                    f"space {space.ref!r} is a {space.kind} space but the sampler is "
                    f"{sampler!r}; use sampler 'grid' with grid spaces only (or leave it out)",
                    body.sampler,
                )
            )
    overrides = {"epochs": body.epochs} if body.epochs is not None else {}
    if pair_ok and overrides:
        check("epochs", body.epochs, lambda: resolve(body.task, body.algorithm, overrides))
    if body.batch > 1 and sampler == "grid":
        errors.append(
            FieldError(
                "batch",
                f"batch={body.batch} cannot be combined with the grid sampler; use batch 1",
                body.batch,
            )
        )
    if errors or space is None:
        raise InvalidSubmission(errors or [FieldError("space", "no usable space", body.space)])
    try:
        return StudyConfig(
            task=body.task,
            algorithm=body.algorithm,
            space=space.to_dict(),
            n_trials=body.n_trials,
            sampler=sampler or "tpe",
            pruner=body.pruner,
            seed=body.seed,
            overrides=overrides,
            batch=body.batch,
            objective=body.objective,
            energy_trace=body.energy_trace,
            warm_start=body.warm_start,
        )
    except PCSearchError as error:  # a rule not checked above: pin it on the field it names
        message = str(error)
        field = _field_named(message, body)
        raise InvalidSubmission([FieldError(field, message, getattr(body, field, None))]) from None


def _space(body: StudyCreate, pair_ok: bool, check: Callable[..., Any]) -> SearchSpace | None:
    given = body.space
    shown = given.get("name") if isinstance(given, dict) else given
    if given is None:
        if not pair_ok:
            return None
        return check("space", None, lambda: default_space(body.task, body.algorithm))[1]
    if isinstance(given, str):
        _, space = check("space", given, lambda: get_space(given))
    else:
        _, space = check("space", shown, lambda: _inline_space(given))
    if space is not None and pair_ok:  # a misfit is recorded; the sampler is still checked
        check("space", shown, lambda: space.check_for(body.task, body.algorithm))
    return space


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


def _field_named(message: str, body: StudyCreate) -> str:
    """The request field an error message is about (``field=value ...``), else the body."""
    for field in StudyCreate.model_fields:
        if message.startswith((f"{field}=", f"{field} ")):
            return field
    if message.startswith(("space", "search space")):
        return "space"
    return "body"
