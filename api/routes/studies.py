"""``/api/v1/studies``: thin adapters over store.studies (actions) and store.views (reads).

Answers are the rows of store.views (also the response models), serialised here, once, by
pydantic (``schemas.to_json``); reads go through the short-lived cache of :mod:`api.cache`,
which every change made here clears.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import schemas
from api.cache import LIST, ReadCache, slot
from api.deps import (
    CacheDep,
    SettingsDep,
    StorageDep,
    in_write_thread,
    known_query_only,
    require_read,
    require_write,
    storage_work,
)
from api.paths import STUDIES
from api.schemas import CONFLICT, ERRORS, NAME_REGEX, NOT_FOUND, to_json
from api.submission import build_config, default_name
from store import rows, studies, views
from store.settings import Settings

router = APIRouter(
    prefix=STUDIES,
    tags=["studies"],
    responses=ERRORS,
    dependencies=[Depends(known_query_only)],
)

StudyName = Annotated[
    str, Path(max_length=100, pattern=NAME_REGEX, description="The study's name.")
]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items in the page.")]
Read = [Depends(require_read)]
Write = [Depends(require_write)]
GENERATED_NAME_TRIES = 3


def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers, media_type="application/json")


async def _read(
    request: Request, cache: ReadCache, settings: Settings, compute: Callable[[], bytes]
) -> Response:
    """A fresh cached answer straight from the event loop (usually the CachedReads
    middleware has answered already); otherwise ``compute`` in a worker thread (it blocks
    on the database), under the storage deadline."""
    group, key = slot(request.scope["path"], request.scope["query_string"]) or ("", "")
    body = cache.peek(group, key)
    if body is None:

        def fresh() -> bytes:
            with storage_work(settings):
                return compute()

        body = await run_in_threadpool(cache.get, group, key, fresh)
    return _json(body)


def _detail(storage: Any, name: str) -> bytes:
    return to_json(views.get_study(storage, name))


@router.get("", response_model=rows.StudyPage, dependencies=Read)
async def list_studies(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    cache: CacheDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Response:
    """The studies made by pcsearch, oldest first: state, trial counts and best value."""

    def compute() -> bytes:
        return to_json(views.list_studies(storage, offset, limit))

    return await _read(request, cache, settings, compute)


@router.post(
    "",
    status_code=201,
    response_model=rows.StudyDetail,
    dependencies=Write,
    responses=CONFLICT,
)
async def create_study(
    body: schemas.StudyCreate, storage: StorageDep, settings: SettingsDep, cache: CacheDep
) -> Response:
    """Create a study for the workers to run; nothing is stored unless every field is valid."""
    return await in_write_thread(lambda: _create(body, storage, settings, cache))


def _create(
    body: schemas.StudyCreate, storage: Any, settings: Settings, cache: ReadCache
) -> Response:
    config = build_config(body)
    with storage_work(settings):
        for attempt in range(GENERATED_NAME_TRIES):
            name = body.name or default_name(body.task, body.algorithm)
            try:
                study = studies.create(storage, name, config)
                break
            except studies.StudyExists:
                if body.name or attempt == GENERATED_NAME_TRIES - 1:
                    raise
        cache.clear(LIST, name)
    detail = views.new_study(name, config.to_dict(), study.direction)
    return _json(to_json(detail), 201, {"Location": f"{router.prefix}/{name}"})


@router.get("/{name}", response_model=rows.StudyDetail, dependencies=Read, responses=NOT_FOUND)
async def get_study(
    name: StudyName, request: Request, storage: StorageDep, settings: SettingsDep, cache: CacheDep
) -> Response:
    """One study: its summary, best trial with its per-epoch curve, spec, and workers that
    gave up on it."""
    return await _read(request, cache, settings, lambda: _detail(storage, name))


@router.get("/{name}/trials", response_model=rows.TrialPage, dependencies=Read, responses=NOT_FOUND)
async def list_trials(
    name: StudyName,
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    cache: CacheDep,
    state: Annotated[
        list[rows.TrialStateName] | None,
        Query(max_length=5, description="Only trials in these states (repeat to give several)."),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Response:
    """A page of the study's trials, by number."""

    def compute() -> bytes:
        return to_json(views.list_trials(storage, name, state or (), offset, limit))

    return await _read(request, cache, settings, compute)


def _act(
    action: Callable[[Any, str], Any],
    name: str,
    storage: Any,
    settings: Settings,
    cache: ReadCache,
) -> Response:
    with storage_work(settings):
        views.get_study(storage, name)  # 404 for a study pcsearch did not make
        action(storage, name)
        cache.clear(LIST, name)
        return _json(_detail(storage, name))


@router.post(
    "/{name}/stop", response_model=rows.StudyDetail, dependencies=Write, responses=NOT_FOUND
)
async def stop_study(
    name: StudyName, storage: StorageDep, settings: SettingsDep, cache: CacheDep
) -> Response:
    """Workers take no new trial of the study; running trials finish."""
    return await in_write_thread(lambda: _act(studies.stop, name, storage, settings, cache))


@router.post(
    "/{name}/resume", response_model=rows.StudyDetail, dependencies=Write, responses=NOT_FOUND
)
async def resume_study(
    name: StudyName, storage: StorageDep, settings: SettingsDep, cache: CacheDep
) -> Response:
    """Workers take the study's trials again, including those that had given up on it."""
    return await in_write_thread(lambda: _act(studies.resume, name, storage, settings, cache))


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    dependencies=Write,
    responses=NOT_FOUND | CONFLICT,
)
async def delete_study(
    name: StudyName,
    storage: StorageDep,
    settings: SettingsDep,
    cache: CacheDep,
    force: Annotated[
        bool, Query(description="Delete even while trials run (their workers drop them).")
    ] = False,
) -> Response:
    """Delete the study and its trials; refused (409) while trials run unless force=true."""

    def delete() -> Response:
        with storage_work(settings):
            views.get_study(storage, name)
            studies.delete(storage, name, force=force)
            cache.clear(LIST, name)
        return Response(status_code=204)

    return await in_write_thread(delete)
