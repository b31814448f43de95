"""The read model: derived study state, the same answers from SQL (Postgres) and from
Optuna's API (journal file), and a number of queries that does not grow with the data."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from search_spaces import default_space
from store import attrs, rows, studies, views
from store.config import StudyConfig
from store.storage import open_storage

START = dt.datetime(2025, 1, 1, 12, 0, 0)
"""Naive, as Optuna hands times out: local time."""
DISTRIBUTIONS = {
    "T": IntDistribution(4, 12),
    "state_lr": FloatDistribution(0.01, 0.5, log=True),
    "activation": CategoricalDistribution(["gelu", "leaky_relu"]),
}


@pytest.mark.parametrize(
    ("status", "counts", "n_trials", "expected"),
    [
        (attrs.STOPPED, rows.TrialCounts(complete=9), 3, "stopped"),
        (attrs.FAILING, rows.TrialCounts(running=1), 3, "failing"),
        (attrs.ACTIVE, rows.TrialCounts(complete=2, pruned=1, running=1), 3, "complete"),
        (None, rows.TrialCounts(running=1, fail=4), 3, "running"),
        (None, rows.TrialCounts(fail=2, waiting=1), 3, "queued"),
        (attrs.ACTIVE, rows.TrialCounts(), 1, "queued"),
    ],
)
def test_study_state(status: str | None, counts, n_trials: int, expected: str) -> None:
    assert views.study_state(status, counts, n_trials) == expected


def test_trial_state_names_are_optunas() -> None:
    """The API's and the CLI's names of trial states, and the counts, follow Optuna's."""
    assert tuple(s.name.lower() for s in TrialState) == rows.TRIAL_STATES
    assert [f.name for f in dataclasses.fields(rows.TrialCounts)] == list(rows.TRIAL_STATES)


def _config(n_trials: int = 4) -> StudyConfig:
    space = default_space("mlp-digits", "pc-se").to_dict()
    return StudyConfig(task="mlp-digits", algorithm="pc-se", space=space, n_trials=n_trials)


def _trial(number: int, state: TrialState, value: float | None, **user_attrs: Any):
    params = {"T": 4 + number, "state_lr": 0.01 * (number + 1), "activation": "gelu"}
    return FrozenTrial(
        number=number,
        state=state,
        value=value,
        datetime_start=START + dt.timedelta(seconds=number),
        datetime_complete=START + dt.timedelta(minutes=1) if state.is_finished() else None,
        params=params,
        distributions=DISTRIBUTIONS,
        user_attrs=user_attrs,
        system_attrs={},
        intermediate_values={},
        trial_id=number,
    )


def fill(storage: optuna.storages.BaseStorage, name: str) -> None:
    """One study with a trial in every state, a retry, and a worker that gave up."""
    study = studies.create(storage, name, _config())
    epochs = {attrs.EPOCH_VALUES: [0.5, 0.75], attrs.WORKER: "a:1", attrs.RUN_STATUS: "completed"}
    for trial in [
        _trial(0, TrialState.COMPLETE, 0.75, **epochs),
        _trial(1, TrialState.COMPLETE, 0.25, **{attrs.EPOCH_VALUES: [0.25]}),
        _trial(2, TrialState.PRUNED, None, **{attrs.REASON: "diverged at epoch 1"}),
        _trial(3, TrialState.FAIL, None, **{attrs.ERROR: "boom"}),
        _trial(4, TrialState.RUNNING, None, **{attrs.RETRY_OF: 3, attrs.ATTEMPT: 2}),
    ]:
        study.add_trial(trial)
    studies.give_up(study, "b:2", "3 failures in a row", 3, 5)
    other = studies.create(storage, f"{name}-other", _config(n_trials=1))
    other.add_trial(_trial(0, TrialState.COMPLETE, 0.5))
    optuna.create_study(study_name=f"{name}-foreign", storage=storage)  # not pcsearch's


@pytest.fixture
def journal(tmp_path: Path) -> optuna.storages.BaseStorage:
    return open_storage(str(tmp_path / "views.journal"))


@pytest.fixture(scope="module")
def postgres(postgres_url: str) -> optuna.storages.BaseStorage:
    return open_storage(postgres_url)


def _all(storage: optuna.storages.BaseStorage, name: str) -> dict[str, Any]:
    page = views.list_studies(storage, 0, 500)
    return {
        "summaries": [s for s in page.items if s.name.startswith(name)],
        "detail": views.get_study(storage, name),
        "trials": views.list_trials(storage, name),
        "filtered": views.list_trials(storage, name, ["complete", "running"], 1, 1),
        "counts": views.trial_counts(storage, name),
    }


def _same_give_up_time(*read: dict[str, Any]) -> None:
    """``give_up`` stamps the wall clock to the second, so two fills a second apart differ
    there and only there."""
    for views_of in read:
        detail = views_of["detail"]
        same = [dataclasses.replace(w, at="same") for w in detail.failing_workers]
        views_of["detail"] = dataclasses.replace(detail, failing_workers=same)


@pytest.mark.postgres
def test_sql_and_journal_read_models_agree(journal, postgres) -> None:
    name = f"views-{secrets.token_hex(4)}"
    fill(journal, name)
    fill(postgres, name)
    from_journal, from_sql = _all(journal, name), _all(postgres, name)
    _same_give_up_time(from_journal, from_sql)
    assert from_sql == from_journal
    detail = from_sql["detail"]
    assert detail.state == "running" and detail.best_value == 0.75
    assert detail.trials == rows.TrialCounts(running=1, complete=2, pruned=1, fail=1)
    assert detail.best_trial == rows.BestTrial(
        0, 0.75, {"T": 4, "state_lr": 0.01, "activation": "gelu"}, [0.5, 0.75]
    )
    assert detail.failing_workers == [rows.FailingWorker("b:2", "3 failures in a row", 3, "same")]
    assert detail.skipping_workers == []
    assert [s.name for s in from_sql["summaries"]] == [name, f"{name}-other"]
    assert from_sql["summaries"][1].state == "complete"
    trials = from_sql["trials"]
    assert trials.total == 5 and [t.state for t in trials.items] == list(
        ["complete", "complete", "pruned", "fail", "running"]
    )
    assert trials.items[0].started_at == START.astimezone(dt.UTC)
    assert trials.items[4].completed_at is None
    assert (trials.items[4].retry_of, trials.items[4].attempt) == (3, 2)
    filtered = from_sql["filtered"]
    assert filtered.total == 3 and [t.number for t in filtered.items] == [1]


@pytest.mark.postgres
def test_unknown_and_foreign_studies_are_not_found(journal, postgres) -> None:
    name = f"views-{secrets.token_hex(4)}"
    for storage in (journal, postgres):
        fill(storage, name)
        with pytest.raises(studies.StudyNotFound, match="does not exist"):
            views.get_study(storage, f"{name}-missing")
        with pytest.raises(studies.StudyNotFound, match="not created by pcsearch"):
            views.list_trials(storage, f"{name}-foreign")


@contextlib.contextmanager
def counted(engine: sqlalchemy.engine.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sqlalchemy.event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", note)


@pytest.mark.postgres
def test_query_count_does_not_grow_with_studies_or_trials(postgres_url: str) -> None:
    """A page costs a fixed handful of queries, never one per study or trial."""
    import psycopg2

    from tests.conftest import POSTGRES

    admin = psycopg2.connect(dbname="postgres", **POSTGRES)
    admin.autocommit = True
    database = f"pcsearch_views_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{database}"')
    try:
        storage = open_storage(postgres_url.rsplit("/", 1)[0] + f"/{database}")
        fill(storage, "one")
        with counted(storage.engine) as few:
            views.list_studies(storage)
            views.list_trials(storage, "one")
            views.get_study(storage, "one")
        for i in range(6):
            fill(storage, f"more{i}")
        with counted(storage.engine) as many:
            assert len(views.list_studies(storage).items) == 14
            assert views.list_trials(storage, "one").total == 5
            views.get_study(storage, "one")
        assert len(many) == len(few) <= 20
        storage.engine.dispose()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
