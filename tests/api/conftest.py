"""Fixtures of the API tests: one real server for the session on the throwaway Postgres
database, httpx clients with and without a token, and a study maker (see helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import optuna
import pytest

from store import studies
from store.storage import open_storage
from tests.api.helpers import Api, TrialSpec, add_trials, make_config, serve, settings_for, unique


@pytest.fixture(scope="session")
def api(postgres_url: str) -> Iterator[Api]:
    """One server for the session, with tokens, on the session's Postgres database."""
    with serve(settings_for(postgres_url)) as url:
        yield Api(url, postgres_url)


@pytest.fixture
def client(api: Api) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


@pytest.fixture
def anonymous(api: Api) -> Iterator[httpx.Client]:
    with api.client(token=None) as c:
        yield c


@pytest.fixture(scope="session")
def storage(postgres_url: str) -> optuna.storages.BaseStorage:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return open_storage(postgres_url)


MakeStudy = Callable[..., optuna.Study]


@pytest.fixture
def make_study(storage: optuna.storages.BaseStorage) -> MakeStudy:
    """``make_study(trials=[TrialSpec(...)], n_trials=5)``: a pcsearch study on the session's
    database, under a unique name unless one is given."""

    def make(trials: list[TrialSpec] = (), name: str | None = None, **config: Any) -> optuna.Study:
        study = studies.create(storage, name or unique("study"), make_config(**config))
        add_trials(study, list(trials))
        return study

    return make
