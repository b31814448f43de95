"""The /api/v1/studies contract over real HTTP on Postgres: every route and error code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import optuna
import pytest

from store import attrs, studies
from store.config import check_study_name
from tests.api.helpers import (
    COMPLETE,
    FAIL,
    PRUNED,
    RUNNING,
    TrialSpec,
    add_trials,
    epoch_attrs,
    unique,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

BODY = {"task": "mlp-digits", "algorithm": "pc-se", "n_trials": 4, "epochs": 2}


def post(client: httpx.Client, **changes: Any) -> httpx.Response:
    return client.post("/api/v1/studies", json=BODY | changes)


def names(client: httpx.Client) -> set[str]:
    return {s["name"] for s in client.get("/api/v1/studies", params={"limit": 500}).json()["items"]}


# --- create ---------------------------------------------------------------------------------


def test_create_answers_the_study_as_get_shows_it(client: httpx.Client) -> None:
    name = unique("create")
    created = post(client, name=name, seed=7, pruner="none")
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/api/v1/studies/{name}"
    shown = client.get(f"/api/v1/studies/{name}")
    assert shown.status_code == 200
    assert created.json() == shown.json()
    study = shown.json()
    assert study["state"] == "queued"
    assert study["trials"] == {"running": 0, "complete": 0, "pruned": 0, "fail": 0, "waiting": 0}
    assert study["best_trial"] is None and study["best_value"] is None
    spec = study["spec"]
    assert (spec["seed"], spec["pruner"], spec["overrides"]) == (7, "none", {"epochs": 2})
    assert spec["space"]["name"] == "discriminative-small-pc"
    assert spec["sampler"] == "tpe" and spec["data_dir"] is None


def test_create_without_name_gets_a_valid_unique_one(client: httpx.Client) -> None:
    first, second = post(client).json()["name"], post(client).json()["name"]
    assert first != second
    for name in (first, second):
        assert name.startswith("mlp-digits.pc-se-")
        assert check_study_name(name) == name


def test_grid_space_gets_the_grid_sampler_by_default(client: httpx.Client) -> None:
    response = post(
        client, task="mlp-two-moons", space="training-stability-two-moons", algorithm="pc-ce"
    )
    assert response.status_code == 201, response.text
    assert response.json()["spec"]["sampler"] == "grid"


def test_inline_space_is_stored_with_the_study(client: httpx.Client) -> None:
    space = client.get("/api/v1/spaces/discriminative-small-pc").json()
    space["params"]["T"] = {"type": "int", "low": 2, "high": 3}
    response = post(client, space=space)
    assert response.status_code == 201, response.text
    assert response.json()["spec"]["space"]["params"]["T"] == {"type": "int", "low": 2, "high": 3}


def test_taken_name_is_409(client: httpx.Client) -> None:
    name = unique("taken")
    assert post(client, name=name).status_code == 201
    again = post(client, name=name)
    assert again.status_code == 409
    assert name in again.json()["detail"] and "another name" in again.json()["detail"]


def _inline_with_bad_param() -> dict[str, Any]:
    return {
        "name": "mine",
        "version": 1,
        "source": "a test",
        "description": "",
        "kind": "bayesian",
        "tasks": ["mlp-digits"],
        "algorithms": ["pc-se"],
        "params": {"state_lr": {"type": "float", "low": 0.5, "high": 0.1}},
    }


INVALID = [
    ({"task": "mlp-nope"}, "task", "mlp-digits"),
    ({"algorithm": "mcpc"}, "algorithm", "does not apply to task 'mlp-digits'"),
    ({"n_trials": 0}, "n_trials", "greater than or equal to 1"),
    ({"n_trials": 100_001}, "n_trials", "less than or equal to 100000"),
    ({"epochs": 10_001}, "epochs", "less than or equal to 10000"),
    ({"batch": 257}, "batch", "less than or equal to 256"),
    ({"name": "a..b"}, "name", "not allowed"),
    ({"name": "../etc"}, "name", "pattern"),
    ({"name": "x" * 101}, "name", "at most 100"),
    ({"space": "no-such-space"}, "space", "unknown search space 'no-such-space'"),
    ({"space": "training-stability-two-moons"}, "space", "not 'mlp-digits'"),
    ({"space": "discriminative-bp"}, "space", "not meant for algorithm 'pc-se'"),
    ({"space": _inline_with_bad_param()}, "space", "low=0.5 is greater than high=0.1"),
    ({"sampler": "grid"}, "sampler", "bayesian space"),
    ({"sampler": "annealing"}, "sampler", "'tpe'"),
    (
        {"task": "mlp-two-moons", "space": "training-stability-two-moons", "batch": 2},
        "batch",
        "grid sampler",
    ),
    ({"data_dir": "/etc"}, "data_dir", "cannot be set over HTTP"),
    ({"colour": "red"}, "colour", "unknown field 'colour'"),
]


@pytest.mark.parametrize(("change", "field", "message"), INVALID)
def test_invalid_field_is_422_naming_it_and_nothing_is_stored(
    client: httpx.Client, change: dict[str, Any], field: str, message: str
) -> None:
    name = change.pop("name", None) or unique("invalid")
    body = BODY | {"name": name} | change
    response = client.post("/api/v1/studies", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    mine = [e for e in errors if e["loc"] == ["body", field]]
    assert mine, errors
    assert message in mine[0]["msg"]
    assert name not in names(client)


def test_several_bad_fields_get_one_message_each(client: httpx.Client) -> None:
    response = post(client, space="discriminative-bp", sampler="grid", epochs=None)
    errors = response.json()["detail"]
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in errors} == {("body", "space"), ("body", "sampler")}


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (  # a space that misfits, with the grid sampler and a batch
            {"space": "discriminative-bp", "sampler": "grid", "batch": 2},
            ["name", "space", "sampler", "batch"],
        ),
        (  # a space that does not exist: the sampler cannot be checked, the batch still is
            {"space": "no-such-space", "sampler": "grid", "batch": 2},
            ["name", "space", "batch"],
        ),
    ],
)
def test_every_bad_field_is_listed_under_its_own_loc(
    client: httpx.Client, change: dict[str, Any], fields: list[str]
) -> None:
    response = post(client, name="a..b", **change)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [["body", f] for f in fields]
    by_field = {e["loc"][1]: e for e in errors}
    assert "grid sampler" in by_field["batch"]["msg"] and by_field["batch"]["input"] == 2
    assert by_field["space"]["input"] == change["space"]
    assert "a..b" not in names(client)


def test_inline_space_is_bounded(client: httpx.Client) -> None:
    space = _inline_with_bad_param()
    space["description"] = "x" * 40_000
    response = post(client, space=space)
    assert response.status_code == 422
    assert "at most 32768" in response.json()["detail"][0]["msg"]
    space = _inline_with_bad_param() | {
        "params": {f"p{i}": {"type": "fixed", "value": 1} for i in range(65)}
    }
    response = post(client, space=space)
    assert response.status_code == 422
    assert "65 params" in response.json()["detail"][0]["msg"]


# --- read -----------------------------------------------------------------------------------


def test_summary_counts_states_and_best_value(client: httpx.Client, make_study) -> None:
    study = make_study(
        [
            TrialSpec(COMPLETE, 0.5),
            TrialSpec(COMPLETE, 0.8),
            TrialSpec(PRUNED),
            TrialSpec(RUNNING),
            TrialSpec(FAIL),
        ],
        n_trials=10,
    )
    items = client.get("/api/v1/studies", params={"limit": 500}).json()["items"]
    (summary,) = [s for s in items if s["name"] == study.study_name]
    assert summary == {
        "name": study.study_name,
        "task": "mlp-digits",
        "algorithm": "pc-se",
        "state": "running",
        "n_trials": 10,
        "direction": "maximize",
        "trials": {"running": 1, "complete": 2, "pruned": 1, "fail": 1, "waiting": 0},
        "best_value": 0.8,
    }


@pytest.mark.parametrize(
    ("trials", "n_trials", "status", "state"),
    [
        ([], 3, None, "queued"),
        ([TrialSpec(FAIL)], 3, None, "queued"),
        ([TrialSpec(RUNNING)], 3, None, "running"),
        ([TrialSpec(COMPLETE, 1.0), TrialSpec(PRUNED)], 2, None, "complete"),
        ([TrialSpec(RUNNING)], 3, attrs.STOPPED, "stopped"),
        ([TrialSpec(COMPLETE, 1.0)], 1, attrs.FAILING, "failing"),
    ],
)
def test_state_is_derived(
    client: httpx.Client, make_study, trials, n_trials: int, status: str | None, state: str
) -> None:
    study = make_study(trials, n_trials=n_trials)
    if status:
        study.set_user_attr(attrs.STATUS, status)
    assert client.get(f"/api/v1/studies/{study.study_name}").json()["state"] == state


def test_detail_has_best_trial_curve_and_failing_workers(client: httpx.Client, make_study) -> None:
    study = make_study(
        [
            TrialSpec(COMPLETE, 0.7, epoch_attrs([0.5, 0.7])),
            TrialSpec(COMPLETE, 0.9, epoch_attrs([0.6, 0.8, 0.9])),
            TrialSpec(COMPLETE, 0.2, epoch_attrs([0.2])),
        ]
    )
    studies.give_up(study, "gpu-7:42", "3 trials failed in a row: out of memory", 3, 5)
    detail = client.get(f"/api/v1/studies/{study.study_name}").json()
    best = study.best_trial
    assert detail["best_value"] == 0.9
    assert detail["best_trial"] == {
        "number": 1,
        "value": 0.9,
        "params": best.params,
        "epoch_values": [0.6, 0.8, 0.9],
    }
    (failing,) = detail["failing_workers"]
    assert failing["worker"] == "gpu-7:42"
    assert failing["reason"] == "3 trials failed in a row: out of memory"
    assert failing["failures"] == 3
    assert detail["spec"]["task"] == "mlp-digits"


def test_minimised_study_takes_the_lowest_value(client: httpx.Client, storage) -> None:
    name = unique("minimise")
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    study.set_user_attr(attrs.CONFIG, {"task": "x", "algorithm": "y", "n_trials": 5})
    add_trials(study, [TrialSpec(COMPLETE, 3.0), TrialSpec(COMPLETE, 1.5)])
    detail = client.get(f"/api/v1/studies/{name}").json()
    assert (detail["direction"], detail["best_value"]) == ("minimize", 1.5)
    assert detail["best_trial"]["number"] == 1


def test_study_list_pages(client: httpx.Client, make_study) -> None:
    for _ in range(3):
        make_study()
    everything = client.get("/api/v1/studies", params={"limit": 500}).json()
    total = everything["total"]
    assert total == len(everything["items"]) >= 3
    pages = [
        client.get("/api/v1/studies", params={"offset": offset, "limit": 2}).json()
        for offset in range(0, total, 2)
    ]
    assert all(p["total"] == total and p["limit"] == 2 for p in pages)
    assert [s["name"] for p in pages for s in p["items"]] == [
        s["name"] for s in everything["items"]
    ]
    beyond = client.get("/api/v1/studies", params={"offset": total + 10}).json()
    assert beyond["items"] == [] and beyond["total"] == total


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
def test_bad_paging_is_422(client: httpx.Client, query: dict[str, int]) -> None:
    response = client.get("/api/v1/studies", params=query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(query))]


def test_trials_page_with_every_field(client: httpx.Client, make_study) -> None:
    retry = {attrs.RETRY_OF: 0, attrs.ATTEMPT: 2, attrs.REASON: "worker host:9 died"}
    study = make_study(
        [
            TrialSpec(COMPLETE, 0.9, epoch_attrs([0.8, 0.9])),
            TrialSpec(PRUNED, None, epoch_attrs([0.1]) | {attrs.REASON: "diverged at epoch 1"}),
            TrialSpec(RUNNING, None, {attrs.WORKER: "host:2"} | retry),
        ]
    )
    page = client.get(f"/api/v1/studies/{study.study_name}/trials").json()
    assert (page["total"], page["offset"], page["limit"]) == (3, 0, 50)
    first, pruned, running = page["items"]
    stored = study.trials
    assert first["number"] == 0 and first["state"] == "complete" and first["value"] == 0.9
    assert first["params"] == stored[0].params
    assert (first["status"], first["worker"], first["epochs_done"]) == ("completed", "host:1", 2)
    assert (first["retry_of"], first["attempt"]) == (None, 1)
    started = dt.datetime.fromisoformat(first["started_at"])
    completed = dt.datetime.fromisoformat(first["completed_at"])
    assert started.tzinfo is not None and started <= completed
    assert abs(completed - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert pruned["state"] == "pruned" and pruned["reason"] == "diverged at epoch 1"
    assert pruned["value"] is None
    assert running["state"] == "running" and running["completed_at"] is None
    assert (running["retry_of"], running["attempt"], running["worker"]) == (0, 2, "host:2")


def test_trials_filter_by_state_and_page(client: httpx.Client, make_study) -> None:
    specs = [TrialSpec(COMPLETE, i / 10) for i in range(5)] + [TrialSpec(FAIL), TrialSpec(PRUNED)]
    study = make_study(specs)
    url = f"/api/v1/studies/{study.study_name}/trials"
    page = client.get(url, params={"state": "complete", "offset": 1, "limit": 2}).json()
    assert page["total"] == 5
    assert [t["number"] for t in page["items"]] == [1, 2]
    both = client.get(url, params=[("state", "fail"), ("state", "pruned")]).json()
    assert [t["state"] for t in both["items"]] == ["fail", "pruned"]
    bad = client.get(url, params={"state": "finished"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "state", 0]


# --- actions --------------------------------------------------------------------------------


def test_stop_and_resume(client: httpx.Client, make_study) -> None:
    study = make_study([TrialSpec(RUNNING)])
    studies.give_up(study, "host:3", "boom", 3, 1)
    url = f"/api/v1/studies/{study.study_name}"
    assert client.get(url).json()["state"] == "failing"
    stopped = client.post(f"{url}/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    resumed = client.post(f"{url}/resume")
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "running" and resumed.json()["failing_workers"] == []


def test_delete_refuses_running_trials_unless_forced(client: httpx.Client, make_study) -> None:
    study = make_study([TrialSpec(RUNNING)])
    url = f"/api/v1/studies/{study.study_name}"
    refused = client.delete(url)
    assert refused.status_code == 409 and "force" in refused.json()["detail"]
    assert client.get(url).status_code == 200
    deleted = client.delete(url, params={"force": "true"})
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(url).status_code == 404


def test_delete_finished_study(client: httpx.Client, make_study) -> None:
    study = make_study([TrialSpec(COMPLETE, 0.1)])
    assert client.delete(f"/api/v1/studies/{study.study_name}").status_code == 204
    assert study.study_name not in names(client)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/trials"), ("POST", "/stop"), ("POST", "/resume"), ("DELETE", "")],
)
def test_unknown_study_is_404(client: httpx.Client, method: str, suffix: str) -> None:
    response = client.request(method, f"/api/v1/studies/{unique('ghost')}{suffix}")
    assert response.status_code == 404
    assert "does not exist" in response.json()["detail"]


def test_study_not_made_by_pcsearch_is_404(client: httpx.Client, storage) -> None:
    name = unique("foreign")
    optuna.create_study(study_name=name, storage=storage)
    response = client.get(f"/api/v1/studies/{name}")
    assert response.status_code == 404
    assert "not created by pcsearch" in response.json()["detail"]
    assert name not in names(client)


def test_bad_name_in_path_is_422(client: httpx.Client) -> None:
    response = client.get("/api/v1/studies/-leading-dash")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "name"]


def test_an_unknown_query_parameter_is_refused_by_name(client: httpx.Client) -> None:
    response = client.get("/api/v1/studies", params={"limt": 5})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["query", "limt"]
    assert "unknown query parameter 'limt'" in detail["msg"] and "limit" in detail["msg"]
    assert client.get("/api/v1/studies", params={"limit": 5}).status_code == 200
