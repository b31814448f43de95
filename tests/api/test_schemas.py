"""The study and trial rows are declared once, in store.views: the OpenAPI document shows
exactly their fields, in their order, with their descriptions, and the routes answer them.
A field added to a store row shows in the API; nothing re-declares the rows in api/."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api import schemas
from api.main import create_app
from api.paths import API_PREFIX, STUDIES
from api.settings import Settings
from store import rows

ROWS = [
    rows.TrialCounts,
    rows.StudySummary,
    rows.BestTrial,
    rows.FailingWorker,
    rows.SkippingWorker,
    rows.StudyDetail,
    rows.Trial,
    rows.StudyPage,
    rows.TrialPage,
]
"""Every row the study routes answer; each is an OpenAPI component of the same name."""


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(Settings(database_url="never-opened.journal")).openapi()


def fields_and_descriptions(row: type) -> dict[str, str | None]:
    return {f.name: f.metadata.get("description") for f in dataclasses.fields(row)}


def shown(component: dict[str, Any]) -> dict[str, str | None]:
    return {name: p.get("description") for name, p in component["properties"].items()}


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.__name__)
def test_the_openapi_component_is_the_store_row(openapi: dict[str, Any], row: type) -> None:
    component = openapi["components"]["schemas"][row.__name__]
    assert list(shown(component)) == list(fields_and_descriptions(row))  # same order
    assert shown(component) == fields_and_descriptions(row)
    assert set(component["required"]) == {
        f.name
        for f in dataclasses.fields(row)
        if f.default is dataclasses.MISSING or row is rows.TrialCounts  # always sent
    }


def test_the_trial_and_detail_say_what_they_said() -> None:
    """The descriptions the API's users read, now declared on the store's rows."""
    detail, trial = fields_and_descriptions(rows.StudyDetail), fields_and_descriptions(rows.Trial)
    assert detail["spec"] == "The study's configuration, as created."
    assert detail["state"].startswith("stopped or failing when set so, else complete")
    assert detail["failing_workers"] == "Workers that gave up on it."
    assert trial["status"] == "How the run ended: completed, diverged, failed..."
    assert trial["warm_start"].startswith("'paper' on a study's first trial")


def answered(openapi: dict[str, Any], path: str, method: str, status: str) -> str:
    content = openapi["paths"][path][method]["responses"][status]["content"]
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def test_the_study_routes_answer_the_store_rows(openapi: dict[str, Any]) -> None:
    assert answered(openapi, STUDIES, "get", "200") == "StudyPage"
    assert answered(openapi, STUDIES, "post", "201") == "StudyDetail"
    for path in ("", "/stop", "/resume"):
        method = "get" if not path else "post"
        assert answered(openapi, f"{STUDIES}/{{name}}{path}", method, "200") == "StudyDetail"
    assert answered(openapi, f"{STUDIES}/{{name}}/trials", "get", "200") == "TrialPage"


def test_the_api_declares_no_row_of_its_own() -> None:
    assert not [row.__name__ for row in ROWS if hasattr(schemas, row.__name__)]


def test_one_prefix_for_every_route(openapi: dict[str, Any]) -> None:
    assert STUDIES.startswith(API_PREFIX + "/")
    api_paths = [p for p in openapi["paths"] if p not in ("/healthz", "/readyz")]
    assert api_paths and all(p.startswith(API_PREFIX + "/") for p in api_paths)
