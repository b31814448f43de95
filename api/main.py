"""The app factory: routes, error shapes, limits and an offline /docs page."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import optuna
import swagger_ui_bundle
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

import pcsearch
from api.cache import ReadCache
from api.deps import StorageHolder
from api.errors import ApiError, Unavailable
from api.finite import finite_body, json_safe
from api.middleware import BodyLimit, CachedReads, LastResort
from api.routes import catalogue, health, studies
from api.submission import InvalidSubmission
from pcsearch.errors import PCSearchError
from store.settings import Settings
from store.settings import settings as env_settings
from store.storage import scrub
from store.studies import StudyBusy, StudyExists, StudyNotFound

TITLE = "pcsearch API"
ASSETS = "/static/swagger-ui"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API over the storage in ``settings.database_url`` (from the environment when
    no settings are given); the storage is opened on the first request that needs it."""
    settings = settings or env_settings()
    if not settings.database_url:
        raise ApiError(
            "no storage to serve; pass --storage postgresql+psycopg2://USER@HOST/DB or set "
            "PCSEARCH_DATABASE_URL"
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    holder = StorageHolder(settings.database_url, settings.api_connect_timeout_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        sys.setswitchinterval(settings.api_switch_interval_ms / 1000)
        yield
        holder.close()

    app = FastAPI(
        title=TITLE,
        version=pcsearch.__version__,
        description="Submit, watch, stop, resume and delete hyperparameter searches of "
        "predictive coding networks. Mutating routes need `Authorization: Bearer <token>`.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(finite_body)],  # before every route's own validation
    )
    app.state.settings = settings
    app.state.storage = holder
    app.state.cache = cache = ReadCache(settings.api_cache_seconds)
    for router in (studies.router, catalogue.router, health.router):
        app.include_router(router)
    _add_handlers(app, settings)
    _add_docs(app)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.add_middleware(CachedReads, cache=cache, settings=settings)
    app.add_middleware(LastResort, url=settings.database_url)
    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI from the installed swagger_ui_bundle: the page works with no internet."""
    app.mount(ASSETS, StaticFiles(directory=Path(swagger_ui_bundle.swagger_ui_path)), name="assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=TITLE,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )


def _add_handlers(app: FastAPI, settings: Settings) -> None:
    url = settings.database_url

    def detail(status: int, error: Exception, headers: dict[str, str] | None = None) -> Any:
        return JSONResponse({"detail": scrub(str(error), url)}, status, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse({"detail": error.detail}, error.status_code, headers)

    @app.exception_handler(StudyNotFound)
    async def not_found(request: Request, error: StudyNotFound) -> JSONResponse:
        return detail(404, error)

    @app.exception_handler(StudyExists)
    async def exists(request: Request, error: StudyExists) -> JSONResponse:
        return detail(409, error)

    @app.exception_handler(StudyBusy)
    async def busy(request: Request, error: StudyBusy) -> JSONResponse:
        return detail(409, error)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, error: Unavailable) -> JSONResponse:
        return detail(503, error, {"Retry-After": "5"})

    @app.exception_handler(InvalidSubmission)
    async def invalid(request: Request, error: InvalidSubmission) -> JSONResponse:
        errors = [e.as_detail() for e in error.errors]
        return JSONResponse({"detail": json_safe(jsonable_encoder(errors))}, 422)

    @app.exception_handler(PCSearchError)
    async def refused(request: Request, error: PCSearchError) -> JSONResponse:
        return detail(400, error)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = _explained(error.errors())
        return JSONResponse({"detail": json_safe(jsonable_encoder(errors))}, 422)


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _explained(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's per-field errors, with a fix for the ones whose message has none."""
    out = []
    for e in errors:
        e = dict(e)
        e.pop("url", None)
        field = e["loc"][-1] if e.get("loc") else "body"
        if e.get("type") == "extra_forbidden":
            e["msg"] = (
                "data_dir cannot be set over HTTP: it is a path on the workers (set it there)"
                if field == "data_dir"
                else f"unknown field {field!r}; see the StudyCreate schema at /docs"
            )
        elif e.get("type") == "json_invalid":
            e["msg"] = f"the body is not valid JSON ({e.get('ctx', {}).get('error', e['msg'])})"
        out.append(e)
    return out
