"""Where a study's attributes live: the people's (a one-line description, task, algorithm,
space) in user attributes, which optuna-dashboard shows; the machines' (the config, the
control flag) in system attributes, which it does not; the metric named for the dashboard.
Studies written by an older pcsearch (config and flag in user attributes) read the same
through every reader: the Python one, the aggregate SQL, and the journal's views."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from search_spaces import default_space
from store import attrs, rows, studies, views
from store.config import StudyConfig
from store.storage import open_storage
from tests.store.legacy import make_legacy_study, small_config


@pytest.fixture(params=["journal", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test on a journal file and on Postgres (whose views are aggregate SQL)."""
    if request.param == "journal":
        yield str(tmp_path / "s.journal")
    else:
        yield request.getfixturevalue("postgres_url")


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def system_attrs(url: str, name: str) -> dict:
    storage = open_storage(url)
    return storage.get_study_system_attrs(storage.get_study_id_from_name(name))


def listed(url: str, name: str) -> rows.StudySummary:
    """The study as a page of the listing shows it (the page query, not the one-study one)."""
    page = views.list_studies(open_storage(url), 0, 10_000)
    (found,) = [s for s in page.items if s.name == name]
    return found


def test_a_new_study_shows_people_a_line_and_keeps_the_config_out_of_sight(url: str) -> None:
    name, config = unique("new"), small_config(n_trials=5)
    study = studies.create(open_storage(url), name, config)
    assert study.user_attrs == {
        "pcsearch": studies.describe(config),
        "task": "mlp-two-moons",
        "algorithm": "pc-se",
        "space": config.search_space().ref,
    }
    stored = system_attrs(url, name)
    assert stored[attrs.STORED_CONFIG] == config.to_dict()
    assert stored[attrs.CONTROL] == attrs.ACTIVE
    assert study.metric_names == ["accuracy"]
    assert studies.load(open_storage(url), name)[1] == config
    assert views.get_study(open_storage(url), name).spec == config.to_dict()
    assert (listed(url, name).n_trials, listed(url, name).state) == (5, "queued")


@pytest.mark.parametrize(
    ("task", "algorithm", "metric"),
    [
        ("mlp-mnist", "pc-se", "accuracy"),
        ("ae-mnist", "pc-se", "mse"),
        ("mcpc-mnist", "mcpc", "mmd"),
    ],
)
def test_the_objective_is_named_after_the_tasks_metric(
    tmp_path: Path, task: str, algorithm: str, metric: str
) -> None:
    space = default_space(task, algorithm).to_dict()
    config = StudyConfig(task=task, algorithm=algorithm, space=space, n_trials=1)
    study = studies.create(open_storage(str(tmp_path / "s.journal")), "named", config)
    assert study.metric_names == [metric]


def test_the_description_is_one_short_line() -> None:
    space = default_space("mlp-mnist", "pc-se")
    config = StudyConfig(
        task="mlp-mnist", algorithm="pc-se", space=space.to_dict(), n_trials=40, seed=7
    )
    assert studies.describe(config) == (
        f"pc-se on mlp-mnist, 40 trials, TPE, space {space.ref}, seed 7"
    )
    rerun = small_config(n_trials=3, seeds=[1, 2, 3], rerun_of="moons", sampler="random")
    assert studies.describe(rerun).endswith(", rerun of moons, seeds 1,2,3, epochs=1")
    many = small_config(n_trials=80, seeds=list(range(80)), sampler="random")
    line = studies.describe(many)
    assert len(line) == studies.DESCRIPTION_MAX and line.endswith("...") and "\n" not in line


def test_stop_and_resume_set_the_flag_where_the_dashboard_does_not_show_it(url: str) -> None:
    name = unique("flag")
    studies.create(open_storage(url), name, small_config())
    studies.stop(open_storage(url), name)
    assert system_attrs(url, name)[attrs.CONTROL] == attrs.STOPPED
    assert views.get_study(open_storage(url), name).state == "stopped"
    assert listed(url, name).state == "stopped"
    studies.resume(open_storage(url), name)
    assert views.get_study(open_storage(url), name).state == "queued"
    user = optuna.load_study(study_name=name, storage=open_storage(url)).user_attrs
    assert attrs.STATUS not in user


@pytest.mark.parametrize(
    ("flag", "state"),
    [(attrs.ACTIVE, "queued"), (attrs.STOPPED, "stopped"), (attrs.FAILING, "failing")],
)
def test_an_older_study_reads_the_same_everywhere(url: str, flag: str, state: str) -> None:
    name, config = unique("old"), small_config(n_trials=4)
    study = make_legacy_study(url, name, config, status=flag)
    storage = open_storage(url)
    assert studies.load(storage, name)[1] == config
    assert studies.status(study) == flag
    assert [s.study_name for s in studies.pcsearch_studies(storage)].count(name) == 1
    detail = views.get_study(storage, name)
    assert (detail.state, detail.n_trials, detail.spec) == (state, 4, config.to_dict())
    assert (listed(url, name).state, listed(url, name).n_trials) == (state, 4)


def test_writing_the_flag_clears_an_older_studys_one(url: str) -> None:
    name = unique("old-flag")
    make_legacy_study(url, name, small_config(), status=attrs.STOPPED)
    study = studies.resume(open_storage(url), name)
    assert study.user_attrs[attrs.STATUS] is None
    assert studies.status(study) == attrs.ACTIVE
    assert views.get_study(open_storage(url), name).state == "queued"
    studies.stop(open_storage(url), name)
    assert listed(url, name).state == "stopped"


def test_loading_an_older_study_upgrades_it_only_when_asked(url: str) -> None:
    name = unique("old-load")
    make_legacy_study(url, name, small_config())
    studies.load(open_storage(url), name)  # e.g. `pcsearch report`: reads only
    assert system_attrs(url, name) == {}
    study, _ = studies.load(open_storage(url), name, upgrade=True)  # a worker
    assert study.metric_names == ["accuracy"]
    assert study.user_attrs[attrs.STATUS] is None  # "active" meant what no flag means
    assert views.get_study(open_storage(url), name).state == "queued"


def test_a_resume_moves_an_older_config_out_of_sight(url: str) -> None:
    name = unique("old-resume")
    make_legacy_study(url, name, small_config(n_trials=2), status=attrs.STOPPED)
    more = small_config(n_trials=6)
    study = studies.create_or_resume(open_storage(url), name, more)
    assert study.user_attrs[attrs.DESCRIPTION] == studies.describe(more)
    assert study.user_attrs[attrs.STATUS] is None
    assert system_attrs(url, name)[attrs.STORED_CONFIG] == more.to_dict()
    assert studies.load(open_storage(url), name)[1] == more
    assert (listed(url, name).n_trials, listed(url, name).state) == (6, "queued")
