"""What exists: tasks, algorithms and search spaces (read-only, no storage needed)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path

from api import schemas
from api.deps import known_query_only, require_read
from api.paths import API_PREFIX
from api.schemas import ERRORS, SPACE_REGEX
from pcsearch.catalogue import ALGORITHMS, TASKS
from search_spaces import SearchSpaceError, get_space, list_spaces

router = APIRouter(
    prefix=API_PREFIX,
    tags=["catalogue"],
    responses=ERRORS,
    dependencies=[Depends(require_read), Depends(known_query_only)],
)


@router.get("/tasks", response_model=list[schemas.Task])
async def tasks() -> Any:
    """The tasks a study can be for."""
    return [dataclasses.asdict(t) for t in TASKS.values()]


@router.get("/algorithms", response_model=list[schemas.Algorithm])
async def algorithms() -> Any:
    """The algorithms; those not implemented yet are listed with implemented=false."""
    return [dataclasses.asdict(a) for a in ALGORITHMS.values()]


@router.get("/spaces", response_model=list[schemas.SpaceSummary])
async def spaces() -> Any:
    """The shipped search spaces (every version)."""
    return [
        {
            "name": s.name,
            "version": s.version,
            "ref": s.ref,
            "kind": s.kind,
            "tasks": list(s.tasks),
            "algorithms": list(s.algorithms),
            "source": s.source,
        }
        for s in list_spaces()
    ]


@router.get(
    "/spaces/{name}",
    response_model=schemas.Space,
    responses={404: {"model": schemas.Error, "description": "No such space."}},
)
async def space(
    name: Annotated[
        str, Path(max_length=120, pattern=SPACE_REGEX, description="name or name@version")
    ],
) -> Any:
    """One search space as data (what an inline space in POST /api/v1/studies looks like)."""
    try:
        return get_space(name).to_dict()
    except SearchSpaceError as error:
        raise HTTPException(404, str(error)) from None
