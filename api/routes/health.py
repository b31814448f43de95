"""Liveness and readiness, always public (orchestrators probe them without a token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api import schemas
from api.deps import StorageHolder, storage_work
from api.errors import Unavailable
from store import views_sql
from store.resilience import retry
from store.settings import Settings
from store.storage import connection_problem, scrub

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=schemas.Health)
async def healthz() -> Any:
    """The process is up (says nothing about the database)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=schemas.Ready,
    responses={503: {"model": schemas.Error, "description": "Not ready; the detail says why."}},
)
def readyz(request: Request) -> Any:
    """The database is reachable and Optuna's schema is in place."""
    settings: Settings = request.app.state.settings
    holder: StorageHolder = request.app.state.storage
    storage = holder.get()
    engine = getattr(storage, "engine", None)
    if engine is None:
        return {"status": "ready", "schema_version": None}

    def version() -> int | None:
        with engine.connect() as conn:
            return views_sql.schema_version(conn)

    try:
        with storage_work(settings):
            found = retry(version)
    except Unavailable:
        raise
    except Exception as error:
        problem = connection_problem(error, holder.url) or scrub(str(error), holder.url)
        raise Unavailable(f"Optuna's schema cannot be read: {problem}") from None
    if found is None:
        raise Unavailable("Optuna's schema is not initialised (no version_info row)")
    return {"status": "ready", "schema_version": found}
