"""Non-finite numbers (NaN, Infinity, -Infinity, 1e400) anywhere in a request: a 422 that
names where each one is, never a 500, and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api.finite import MAX_REPORTED, json_safe
from tests.api.helpers import unique

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

BODY = '{"task": "mlp-digits", "algorithm": "pc-se", "n_trials": 4, "epochs": 2'
LITERALS = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity", "1e400": "Infinity",
            "-1e400": "-Infinity", "1.5e309": "Infinity"}  # fmt: skip


def send(client: httpx.Client, raw: str, path: str = "/api/v1/studies") -> httpx.Response:
    """A raw body: httpx (like any standard JSON encoder) refuses to write NaN itself."""
    return client.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})


def with_fields(**fields: str) -> str:
    """BODY with ``fields`` added (or replaced) as raw JSON text."""
    extra = "".join(f', "{name}": {text}' for name, text in fields.items())
    return BODY + extra + "}"


def problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, (response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    return detail


@pytest.mark.parametrize("literal", LITERALS)
@pytest.mark.parametrize("field", ["n_trials", "epochs", "seed", "batch"])
def test_top_level_field_is_422_naming_the_field(
    client: httpx.Client, field: str, literal: str
) -> None:
    [problem] = problems(send(client, with_fields(**{field: literal})))
    assert problem["loc"] == ["body", field]
    assert problem["input"] == LITERALS[literal]
    assert problem["type"] == "finite_number"
    assert "finite number" in problem["msg"] and LITERALS[literal] in problem["msg"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_overrides_are_422_naming_the_nested_field(client: httpx.Client, literal: str) -> None:
    """A free dict of hyperparameters: the location goes down to the key."""
    raw = with_fields(overrides=f'{{"state_lr": {literal}, "T": 8}}')
    [problem] = problems(send(client, raw))
    assert problem["loc"] == ["body", "overrides", "state_lr"]
    assert problem["input"] == LITERALS[literal]


def test_inline_space_is_422_down_to_the_list_item(client: httpx.Client) -> None:
    space = client.get("/api/v1/spaces/discriminative-small-pc").json()
    space["params"]["T"] = {"type": "int", "low": 2, "high": 3}
    space["params"]["state_momentum"] = {"type": "categorical", "choices": [0.0, 0.5, 0.9]}
    text = json.dumps(space).replace('"low": 2,', '"low": NaN,')
    text = text.replace("[0.0, 0.5, 0.9]", "[0.0, 1e400, 0.9]")
    name = unique("nan-space")
    detail = problems(send(client, with_fields(space=text, name=f'"{name}"')))
    assert [d["loc"] for d in detail] == [
        ["body", "space", "params", "T", "low"],
        ["body", "space", "params", "state_momentum", "choices", 1],
    ]
    assert [d["input"] for d in detail] == ["NaN", "Infinity"]
    assert client.get(f"/api/v1/studies/{name}").status_code == 404, "nothing is stored"
    finite = send(client, with_fields(space=json.dumps(space), name=f'"{name}"'))
    assert finite.status_code == 201, finite.text  # the same space, finite: accepted


def test_every_non_finite_number_is_listed_up_to_a_bound(client: httpx.Client) -> None:
    many = "[" + ", ".join(["NaN"] * (MAX_REPORTED + 5)) + "]"
    detail = problems(send(client, with_fields(n_trials="Infinity", overrides=f'{{"x": {many}}}')))
    assert len(detail) == MAX_REPORTED
    assert detail[0]["loc"] == ["body", "n_trials"]
    assert detail[1]["loc"] == ["body", "overrides", "x", 0]
    assert f"{MAX_REPORTED + 6} non-finite numbers" in detail[0]["msg"]


def test_a_finite_body_still_gets_its_ordinary_errors(client: httpx.Client) -> None:
    """The check adds nothing to a body without non-finite numbers (1e300 is finite)."""
    [problem] = problems(send(client, with_fields(n_trials="1e300")))
    assert problem["loc"] == ["body", "n_trials"] and problem["type"] == "int_type"
    assert problem["input"] == 1e300
    created = send(client, with_fields(name=f'"{unique("finite")}"'))
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("inner", ["1", "NaN"])
def test_deeply_nested_bodies_are_not_a_500(client: httpx.Client, inner: str) -> None:
    """Echoing a deep input back must not exhaust the stack (800 levels: Python's parser
    itself gives up near 1000, which FastAPI answers 400)."""
    depth = 800
    [problem] = problems(send(client, with_fields(overrides="[" * depth + inner + "]" * depth)))
    if inner == "NaN":
        assert problem["loc"] == ["body", "overrides", *[0] * depth]
    else:
        assert problem["loc"] == ["body", "overrides"] and problem["type"] == "extra_forbidden"
    too_deep = send(client, with_fields(overrides="[" * 5000 + inner + "]" * 5000))
    assert too_deep.status_code == 400, too_deep.text


@pytest.mark.parametrize("query", ["limit=NaN", "offset=Infinity", "limit=1e400", "limit=-inf"])
def test_query_parameters_cannot_reach_a_500(client: httpx.Client, query: str) -> None:
    response = client.get(f"/api/v1/studies?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_routes_without_a_body_ignore_one(client: httpx.Client) -> None:
    """stop takes no body: a NaN sent anyway changes nothing (404: no such study)."""
    name = unique("nobody")
    assert send(client, '{"x": NaN}', f"/api/v1/studies/{name}/stop").status_code == 404


def test_json_safe_spells_out_what_json_cannot_carry() -> None:
    nan, inf = float("nan"), float("inf")
    given = {"input": {"a": [nan, 1.5, (inf, -inf)], "b": "NaN"}, "ctx": {"le": 10}}
    assert json_safe(given) == {
        "input": {"a": ["NaN", 1.5, ["Infinity", "-Infinity"]], "b": "NaN"},
        "ctx": {"le": 10},
    }
    json.dumps(json_safe(given), allow_nan=False)  # renders
