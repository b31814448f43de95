"""Schema-driven fuzzing: schemathesis generates requests from the app's own OpenAPI and
sends them over real HTTP to the session's server; no answer may be a 5xx or break the
schema (status code, content type, headers, body). Bounded and derandomized, so a run is
short and repeatable.

The schema is taken from the app itself at import time (the same document the server
serves at /openapi.json): schemathesis' fixture-based loader does not work with pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from store.settings import Settings
from tests.api.helpers import TOKENS, Api

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
OPENAPI = create_app(Settings(database_url="never-opened.journal")).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


def test_served_schema_is_the_fuzzed_one(api: Api) -> None:
    import httpx

    assert httpx.get(f"{api.url}/openapi.json").json() == OPENAPI


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_keeps_its_contract(case: schemathesis.Case, api: Api) -> None:
    # Not every schema-valid study is a valid study (a grid sampler needs a grid space, a
    # space must fit the task): those are refused with a documented 422, by design.
    case.call_and_validate(
        base_url=api.url, headers=AUTH, excluded_checks=[positive_data_acceptance]
    )
