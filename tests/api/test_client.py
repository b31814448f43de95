"""api.client against a real server on Postgres: every method, its typed rows, and every
kind of error; and that it stays importable without the server's packages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import optuna
import pytest

from api import client as client_module
from api.client import (
    BestTrial,
    Client,
    ClientError,
    FailingWorker,
    RequestRefused,
    ServerUnavailable,
    SkippingWorker,
    Study,
    StudySummary,
    Trial,
    TrialCounts,
    WaitTimedOut,
)
from store import rows, studies
from tests.api.conftest import MakeStudy
from tests.api.helpers import (
    COMPLETE,
    FAIL,
    PRUNED,
    RUNNING,
    TOKENS,
    Api,
    TrialSpec,
    add_trials,
    closed_port_url,
    epoch_attrs,
    free_port,
    serve,
    settings_for,
    unique,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

TASK, ALGORITHM = "mlp-digits", "pc-se"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pc(api: Api) -> Client:
    return Client(api.url, token=TOKENS[0])


# --- the rows mirror the server's ------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (StudySummary, rows.StudySummary),
        (Study, rows.StudyDetail),
        (Trial, rows.Trial),
        (TrialCounts, rows.TrialCounts),
        (BestTrial, rows.BestTrial),
        (FailingWorker, rows.FailingWorker),
        (SkippingWorker, rows.SkippingWorker),
    ],
)
def test_the_rows_have_the_servers_fields(ours: type, theirs: type) -> None:
    def shape(row: type) -> list[tuple[str, bool]]:
        return [
            (f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(row)
        ]

    assert shape(ours) == shape(theirs)


def test_unknown_keys_are_kept_and_a_missing_one_is_a_clear_error() -> None:
    trial = {
        "number": 3, "state": "complete", "params": {"T": 5}, "value": 0.5, "status": None,
        "reason": None, "worker": "w:1", "epochs_done": 2, "retry_of": None, "attempt": 1,
        "started_at": "2024-05-01T12:00:00.5Z", "completed_at": None,
    }  # fmt: skip
    row = Trial.from_json(trial | {"from_a_newer_server": [1]})
    assert row.started_at == dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)
    assert row.warm_start is None and row.to_json()["from_a_newer_server"] == [1]
    with pytest.raises(ServerUnavailable, match="a Trial without 'attempt'"):
        Trial.from_json({k: v for k, v in trial.items() if k != "attempt"})
    with pytest.raises(ServerUnavailable, match="Trial.started_at = 'soon'"):
        Trial.from_json(trial | {"started_at": "soon"})


def test_importable_without_the_servers_packages() -> None:
    code = (
        "import sys\n"
        "for m in ('fastapi', 'starlette', 'pydantic', 'pydantic_settings', 'optuna',"
        " 'sqlalchemy', 'jax', 'numpy'):\n"
        "    sys.modules[m] = None\n"
        "import api.client\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('store', 'workers'))\n"
        "assert not loaded, loaded\n"
        "api.client.Client('http://127.0.0.1:1', token='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# --- the methods -----------------------------------------------------------------------------


def test_submit_then_read_it_back(pc: Client, api: Api) -> None:
    name = unique("client")
    made = pc.submit(TASK, ALGORITHM, 3, name=name, epochs=2, seed=7, sampler=None)
    assert isinstance(made, Study)
    assert (made.name, made.state, made.n_trials, made.trials) == (name, "queued", 3, TrialCounts())
    assert made.spec["seed"] == 7 and made.spec["overrides"] == {"epochs": 2}
    assert made.best_trial is None and made.failing_workers == []

    shown = pc.study(name)
    assert shown == made
    with httpx.Client(headers={"Authorization": f"Bearer {TOKENS[0]}"}) as raw:
        assert shown.to_json() == raw.get(f"{api.url}/api/v1/studies/{name}").json()

    listed = {s.name: s for s in pc.studies()}
    assert type(listed[name]) is StudySummary
    assert listed[name].trials == made.trials and listed[name].direction == made.direction


def test_studies_follows_pages_and_honours_offset_and_limit(
    pc: Client, make_study: MakeStudy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        make_study()
    everything = [s.name for s in pc.studies()]
    monkeypatch.setattr(client_module, "PAGE", 2)
    assert [s.name for s in pc.studies()] == everything
    assert len(everything) >= 3
    assert [s.name for s in pc.studies(offset=1, limit=3)] == everything[1:4]
    assert pc.studies(limit=0) == []


def test_trials_by_state(pc: Client, make_study: MakeStudy) -> None:
    study = make_study(
        trials=[
            TrialSpec(COMPLETE, 0.5, epoch_attrs([0.4, 0.5])),
            TrialSpec(PRUNED),
            TrialSpec(FAIL),
            TrialSpec(COMPLETE, 0.75, epoch_attrs([0.75])),
            TrialSpec(RUNNING),
        ]
    )
    trials = pc.trials(study.study_name)
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert all(isinstance(t, Trial) for t in trials)
    first = trials[0]
    assert (first.state, first.value, first.epochs_done, first.worker) == (
        "complete",
        0.5,
        2,
        "host:1",
    )
    assert first.started_at is not None and first.started_at.tzinfo is not None
    assert isinstance(first.completed_at, dt.datetime) and trials[4].completed_at is None

    assert [t.number for t in pc.trials(study.study_name, state="complete")] == [0, 3]
    assert [t.number for t in pc.trials(study.study_name, state=["pruned", "fail"])] == [1, 2]
    assert [t.number for t in pc.trials(study.study_name, offset=1, limit=2)] == [1, 2]

    shown = pc.study(study.study_name)
    assert shown.best_trial == BestTrial(3, 0.75, trials[3].params, [0.75])
    assert shown.trials == TrialCounts(running=1, complete=2, pruned=1, fail=1)


def test_trials_follow_pages(
    pc: Client, make_study: MakeStudy, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = make_study(trials=[TrialSpec(COMPLETE, v / 10) for v in range(5)])
    monkeypatch.setattr(client_module, "PAGE", 2)
    assert [t.number for t in pc.trials(study.study_name)] == [0, 1, 2, 3, 4]
    assert [t.number for t in pc.trials(study.study_name, offset=1, limit=3)] == [1, 2, 3]


def test_wait_until_complete_with_a_progress_line(
    pc: Client, make_study: MakeStudy, capsys: pytest.CaptureFixture[str]
) -> None:
    study = make_study(trials=[TrialSpec(COMPLETE, 0.5)], n_trials=2)

    def finish() -> None:
        time.sleep(0.6)
        add_trials(study, [TrialSpec(COMPLETE, 0.625)])

    worker = threading.Thread(target=finish)
    worker.start()
    try:
        done = pc.wait(study.study_name, poll=0.1, timeout=60, progress="always")
    finally:
        worker.join()
    assert done.state == "complete" and done.trials.complete == 2
    shown = capsys.readouterr().err
    assert f"\r{study.study_name}: 1/2 trials, best 0.5000" in shown
    assert f"\r{study.study_name}: 2/2 trials, best 0.6250" in shown
    assert shown.endswith("\n") and shown.count("\n") == 1


def test_wait_times_out_quietly_off_a_terminal(
    pc: Client, make_study: MakeStudy, capsys: pytest.CaptureFixture[str]
) -> None:
    study = make_study(n_trials=2)
    started = time.monotonic()
    with pytest.raises(WaitTimedOut, match="is still queued after 0.5 s") as raised:
        pc.wait(study.study_name, poll=0.1, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 10
    assert raised.value.study.name == study.study_name
    assert isinstance(raised.value, TimeoutError)
    assert capsys.readouterr().err == ""  # progress=True, but stderr is no terminal here
    with pytest.raises(ClientError, match="poll=0"):
        pc.wait(study.study_name, poll=0)


def test_wait_returns_on_a_stopped_study(pc: Client, make_study: MakeStudy) -> None:
    study = make_study(n_trials=2)
    pc.stop(study.study_name)
    assert pc.wait(study.study_name, poll=30, timeout=5, progress=False).state == "stopped"


def test_stop_and_resume(pc: Client, make_study: MakeStudy) -> None:
    name = make_study().study_name
    stopped = pc.stop(name)
    assert isinstance(stopped, Study) and stopped.state == "stopped"
    assert pc.study(name).state == "stopped"
    assert pc.resume(name).state == "queued"


def test_delete_refused_while_trials_run_unless_forced(
    pc: Client, make_study: MakeStudy, storage: optuna.storages.BaseStorage
) -> None:
    idle = make_study(trials=[TrialSpec(COMPLETE, 0.5)]).study_name
    assert pc.delete(idle) is None
    with pytest.raises(RequestRefused) as gone:
        pc.study(idle)
    assert gone.value.status == 404 and f"{idle!r} does not exist" in gone.value.message

    busy = make_study(trials=[TrialSpec(RUNNING)]).study_name
    with pytest.raises(RequestRefused) as refused:
        pc.delete(busy)
    assert refused.value.status == 409 and "1 running trial(s)" in refused.value.message
    assert refused.value.errors == []
    pc.delete(busy, force=True)
    assert busy not in {s.name for s in pc.studies()}
    with pytest.raises(studies.StudyNotFound):
        studies.load(storage, busy)


# --- errors ----------------------------------------------------------------------------------


def test_a_422_carries_each_bad_field(pc: Client) -> None:
    with pytest.raises(RequestRefused) as refused:
        pc.submit(TASK, ALGORITHM, 5, epochs=0, colour="blue")
    error = refused.value
    assert error.status == 422
    fields = {e.field: e for e in error.errors}
    assert set(fields) == {"epochs", "colour"}
    assert fields["epochs"].input == 0 and "greater than or equal to 1" in fields["epochs"].message
    assert str(error).startswith("422 ") and "epochs: " in str(error)

    with pytest.raises(RequestRefused) as semantic:
        pc.submit(TASK, ALGORITHM, 5, space="discriminative-bp", sampler="grid")
    assert {e.field for e in semantic.value.errors} == {"space", "sampler"}


def test_401_without_or_with_a_wrong_token(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCSEARCH_API_TOKEN", TOKENS[1])
    for token in ("", "not-a-token"):
        with pytest.raises(RequestRefused) as refused:
            Client(api.url, token=token).studies()
        assert refused.value.status == 401 and refused.value.errors == []
        assert "401 Unauthorized: " in str(refused.value)


def test_url_and_token_default_to_the_environment(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PCSEARCH_API_URL", api.url + "/")
    monkeypatch.setenv("PCSEARCH_API_TOKEN", TOKENS[1])
    client = Client()
    assert client.url == api.url and TOKENS[1] not in repr(client)
    assert isinstance(client.studies(), list)  # the token was sent
    monkeypatch.delenv("PCSEARCH_API_URL")
    assert Client().url == client_module.DEFAULT_URL


def test_not_an_http_url_is_refused_at_once() -> None:
    with pytest.raises(ClientError, match="'ftp://head' is not an http"):
        Client("ftp://head")


def test_unreachable_api_is_server_unavailable_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match=f"cannot reach the API at {url}") as raised:
        Client(url, token="").study("anything")
    assert time.monotonic() - started < 5
    assert raised.value.status is None and not isinstance(raised.value, RequestRefused)


def test_a_5xx_is_server_unavailable_with_its_status() -> None:
    settings = settings_for(closed_port_url(), api_storage_deadline_seconds=2)
    with serve(settings) as url, pytest.raises(ServerUnavailable) as raised:
        Client(url, token=TOKENS[0]).studies()
    assert raised.value.status == 503 and str(raised.value).startswith("503 ")
