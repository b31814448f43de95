"""Non-finite numbers in request bodies.

Python's JSON parser, which FastAPI uses, accepts ``NaN``, ``Infinity`` and ``-Infinity``
and reads ``1e400`` as infinity. None of them is a number JSON can carry back out, so an
error that echoed one could not be rendered (a 500), and one that passed validation (inside
an inline space, say) would reach the study's configuration. Every JSON body is checked
before its route runs (:func:`finite_body`, an app-wide dependency), and error bodies are
made safe to render (:func:`json_safe`) whatever they echo.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

MAX_REPORTED = 10
"""Error entries for one body: a 64 KiB body could otherwise hold thousands of NaNs."""

Location = tuple[str | int, ...]


def spelling(number: float) -> str:
    """How JavaScript (and Python's JSON parser) spells a non-finite float."""
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def non_finite(value: Any) -> list[tuple[Location, float]]:
    """Where ``value`` (parsed JSON) holds NaN or an infinity, in document order.

    Iterative, so a deeply nested body cannot exhaust the stack."""
    found: list[tuple[Location, float]] = []
    stack: list[tuple[Location, Any]] = [((), value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                found.append((loc, item))
        elif isinstance(item, dict):
            stack.extend((loc + (k,), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((loc + (i,), v) for i, v in reversed(list(enumerate(item))))
    return found


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by its spelling as a string, so that a
    JSON response (which refuses non-finite floats) can always render it. Iterative, like
    :func:`non_finite`: an echoed input may be nested hundreds deep."""
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, float) and not math.isfinite(item):
            holder[key] = spelling(item)
        elif isinstance(item, dict):
            holder[key] = copy = dict(item)
            stack.extend((copy, k) for k in copy)
        elif isinstance(item, list | tuple):
            holder[key] = copy = list(item)
            stack.extend((copy, i) for i in range(len(copy)))
    return root[0]


def message(shown: str) -> str:
    return (
        f"{shown} is not accepted: send a finite number (NaN, Infinity, -Infinity and numbers "
        f"too large for a 64-bit float, such as 1e400, are not JSON numbers this API takes)"
    )


def errors_for(found: list[tuple[Location, float]]) -> list[dict[str, Any]]:
    """FastAPI's shape for validation errors, one per non-finite number (at most
    :data:`MAX_REPORTED`; the first entry then says how many there are)."""
    errors = [
        {
            "type": "finite_number",
            "loc": ("body", *loc),
            "msg": message(spelling(number)),
            "input": spelling(number),
        }
        for loc, number in found[:MAX_REPORTED]
    ]
    if len(found) > MAX_REPORTED:
        errors[0]["msg"] += f" ({len(found)} non-finite numbers in the body; the first "
        errors[0]["msg"] += f"{MAX_REPORTED} are listed)"
    return errors


async def finite_body(request: Request) -> None:
    """422 for a JSON body holding a non-finite number, each one named by its location.

    Runs before the route's own validation, on the body FastAPI has already parsed
    (Starlette keeps it), so a body is parsed once."""
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None:
        return
    if not _is_json(request.headers.get("content-type")) or not await request.body():
        return  # FastAPI did not read it as JSON: its own validation answers
    try:
        body = await request.json()
    except ValueError:  # FastAPI answers an unparsable body before dependencies run
        return
    found = non_finite(body)
    if found:
        raise RequestValidationError(errors_for(found))


def _is_json(content_type: str | None) -> bool:
    """FastAPI's rule for a body it parses as JSON: application/json or application/*+json."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))
