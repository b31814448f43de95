"""StudyConfig validation, resuming a study with other settings, and storage URL errors.

Fast: no training, only Optuna journal files in tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest

from search_spaces import SearchSpace, default_space
from store import attrs, studies
from store.config import (
    PRUNERS,
    SAMPLERS,
    InvalidConfig,
    Problem,
    StudyConfig,
    default_sampler,
    find_problems,
)
from store.errors import StoreError
from store.samplers import make_pruner, make_sampler
from store.storage import open_storage
from workers.loop import Worker


def create_or_resume(url: str, name: str, config: StudyConfig) -> optuna.Study:
    return studies.create_or_resume(open_storage(url), name, config)


def run_study(url: str, name: str) -> int:
    return Worker(url).run_study(name)


TASK, ALGORITHM = "mlp-two-moons", "pc-se"


def grid_space() -> SearchSpace:
    return SearchSpace.from_dict(
        {
            "name": "test-grid",
            "version": 1,
            "source": "written by the test",
            "description": "two state learning rates",
            "kind": "grid",
            "tasks": ["mlp-two-moons", "mlp-digits"],
            "algorithms": ["pc-se", "pc-ce"],
            "params": {
                "state_lr": {"type": "categorical", "choices": [0.01, 0.1]},
                "T": {"type": "fixed", "value": 8},
            },
        }
    )


def config(**changes: Any) -> StudyConfig:
    values: dict[str, Any] = {
        "task": TASK,
        "algorithm": ALGORITHM,
        "space": default_space(TASK, ALGORITHM).to_dict(),
        "n_trials": 4,
        "overrides": {"epochs": 3},
    }
    values.update(changes)
    return StudyConfig(**values)


def test_valid_config_round_trips() -> None:
    c = config()
    assert c.sampler == "tpe" and c.pruner == "median" and c.batch == 1
    assert StudyConfig.from_dict(c.to_dict()) == c
    assert c.direction == "maximize"
    grid = config(space=grid_space().to_dict(), sampler="grid")
    assert grid.search_space().kind == "grid"


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_of_the_registry_builds_and_samples(name: str, tmp_path: Path) -> None:
    """Each registry entry builds for a study of its kind and proposes a trial in the space."""
    space = grid_space().to_dict() if name == "grid" else default_space(TASK, ALGORITHM).to_dict()
    chosen = config(sampler=name, space=space)
    sampler = make_sampler(chosen, worker_seed=7)
    assert isinstance(sampler, optuna.samplers.BaseSampler)
    study = optuna.create_study(storage=open_storage(str(tmp_path / "s.journal")), sampler=sampler)
    trial = study.ask(chosen.search_space().distributions(ALGORITHM))
    assert set(trial.params) == set(chosen.search_space().distributions(ALGORITHM))


@pytest.mark.parametrize("name", PRUNERS)
def test_every_pruner_of_the_registry_builds(name: str) -> None:
    assert isinstance(make_pruner(config(pruner=name)), optuna.pruners.BasePruner)


def test_unknown_sampler_lists_the_choices() -> None:
    with pytest.raises(StoreError) as info:
        config(sampler="bogus")
    message = str(info.value)
    assert "sampler='bogus'" in message
    assert all(name in message for name in SAMPLERS)


def test_unknown_pruner_lists_the_choices() -> None:
    with pytest.raises(StoreError) as info:
        config(pruner="sometimes")
    message = str(info.value)
    assert "pruner='sometimes'" in message
    assert all(name in message for name in PRUNERS)


@pytest.mark.parametrize("n_trials", [0, -3])
def test_n_trials_must_be_positive(n_trials: int) -> None:
    with pytest.raises(StoreError, match=rf"n_trials={n_trials} must be at least 1"):
        config(n_trials=n_trials)


def test_batch_must_be_positive() -> None:
    with pytest.raises(StoreError, match="batch=0 must be at least 1"):
        config(batch=0)


def test_grid_sampler_refuses_a_bayesian_space() -> None:
    with pytest.raises(StoreError) as info:
        config(sampler="grid")
    message = str(info.value)
    assert "discriminative-small-pc" in message and "bayesian" in message
    assert "'grid'" in message


@pytest.mark.parametrize("sampler", ["tpe", "random", "cmaes"])
def test_grid_space_needs_the_grid_sampler(sampler: str) -> None:
    with pytest.raises(StoreError) as info:
        config(space=grid_space().to_dict(), sampler=sampler)
    message = str(info.value)
    assert "test-grid" in message and "grid space" in message
    assert f"{sampler!r}" in message and "use the grid sampler with grid spaces only" in message


def test_batch_cannot_be_combined_with_grid() -> None:
    with pytest.raises(StoreError, match="batch > 1 cannot be combined with the grid sampler"):
        config(space=grid_space().to_dict(), sampler="grid", batch=2)


def test_space_must_fit_the_task() -> None:
    with pytest.raises(Exception, match="mlp-mnist"):
        config(task="mlp-mnist")


def test_several_bad_fields_are_reported_at_once_each_on_its_field() -> None:
    with pytest.raises(InvalidConfig) as info:
        config(space=grid_space().to_dict(), sampler="tpe", pruner="never", n_trials=0, batch=0)
    fields = [p.field for p in info.value.problems]
    assert fields == ["sampler", "pruner", "n_trials", "batch"]
    assert isinstance(info.value, StoreError)
    message = str(info.value)  # the CLI's one line: every message, in that order
    assert message == "; ".join(p.message for p in info.value.problems)
    assert "is a grid space but the sampler is 'tpe'" in message
    assert "pruner='never' is unknown" in message
    assert "n_trials=0 must be at least 1" in message and "batch=0 must be at least 1" in message


def test_one_problem_is_its_message_alone() -> None:
    with pytest.raises(InvalidConfig) as info:
        config(n_trials=0)
    assert info.value.problems == (Problem("n_trials", "n_trials=0 must be at least 1"),)
    assert str(info.value) == "n_trials=0 must be at least 1"


def test_an_unknown_epoch_loop_is_refused_on_its_field_with_the_choices() -> None:
    with pytest.raises(InvalidConfig) as info:
        config(epoch_loop="fast")
    (problem,) = info.value.problems
    assert problem.field == "epoch_loop"
    assert "epoch_loop='fast' is not an epoch loop" in problem.message
    assert "auto, scan, steps, unrolled" in problem.message


def test_a_stored_config_from_before_the_epoch_loop_loads_with_auto() -> None:
    stored = config(epoch_loop="steps").to_dict()
    assert StudyConfig.from_dict(stored).epoch_loop == "steps"
    del stored["epoch_loop"]
    assert StudyConfig.from_dict(stored).epoch_loop == "auto"


def test_checks_that_need_a_failed_one_are_skipped() -> None:
    """A bad task is reported once, not again as a space misfit or bad overrides."""
    with pytest.raises(InvalidConfig) as info:
        config(task="mlp-nope", overrides={"epochs": 0})
    assert [p.field for p in info.value.problems] == ["task"]
    with pytest.raises(InvalidConfig) as info:
        config(space={"name": "broken"}, sampler="grid", batch=2)
    assert [p.field for p in info.value.problems] == ["space", "batch"]


def test_unsupported_pair_is_pinned_on_the_algorithm() -> None:
    with pytest.raises(InvalidConfig) as info:
        config(task="mlp-digits", algorithm="mcpc")
    (problem,) = info.value.problems
    assert problem.field == "algorithm" and "does not apply to task 'mlp-digits'" in problem.message


def test_bad_overrides_are_pinned_on_overrides() -> None:
    with pytest.raises(InvalidConfig) as info:
        config(overrides={"epochs": 0})
    (problem,) = info.value.problems
    assert problem.field == "overrides" and "epochs" in problem.message


def test_problems_without_a_space_skip_its_checks() -> None:
    """A caller that could not make a space (and says why) still learns the rest."""
    options = {"task": TASK, "algorithm": ALGORITHM, "space": None, "n_trials": 0}
    problems = find_problems(options | {"sampler": "grid", "batch": 2})
    assert [p.field for p in problems] == ["n_trials", "batch"]
    with pytest.raises(InvalidConfig, match="space is missing"):
        StudyConfig(**options | {"n_trials": 1})


def test_default_sampler_enumerates_grids_only() -> None:
    assert default_sampler(grid_space()) == "grid"
    assert default_sampler(default_space(TASK, ALGORITHM)) == "tpe"


# -- create_or_resume -----------------------------------------------------------------------


def test_create_stores_the_config_on_the_study(tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    c = config()
    study = create_or_resume(url, "moons", c)
    assert attrs.stored(study).config == c.to_dict()
    # Another process sees the same study and config through the storage alone.
    loaded, stored = studies.load(open_storage(url), "moons")
    assert stored == c
    assert loaded.direction == optuna.study.StudyDirection.MAXIMIZE


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("task", {"task": "mlp-digits"}),
        ("algorithm", {"algorithm": "pc-ce"}),
        ("sampler", {"sampler": "random"}),
        ("overrides", {"overrides": {"epochs": 5}}),
    ],
)
def test_resume_refuses_different_settings(
    tmp_path: Path, field: str, changes: dict[str, Any]
) -> None:
    url = str(tmp_path / "s.journal")
    create_or_resume(url, "study", config())
    with pytest.raises(StoreError) as info:
        create_or_resume(url, "study", config(**changes))
    message = str(info.value)
    assert f"different {field};" in message
    assert "'study'" in message and "--study" in message
    # The stored config is untouched.
    stored = attrs.stored(optuna.load_study(study_name="study", storage=open_storage(url)))
    assert stored.config == config().to_dict()


def test_resume_names_every_differing_field(tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    create_or_resume(url, "study", config())
    with pytest.raises(StoreError, match="different task, algorithm;"):
        create_or_resume(url, "study", config(task="mlp-digits", algorithm="pc-ce"))


def test_resume_accepts_more_trials(tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    create_or_resume(url, "study", config(n_trials=4))
    study = create_or_resume(url, "study", config(n_trials=10))
    assert attrs.stored(study).config["n_trials"] == 10
    again = optuna.load_study(study_name="study", storage=open_storage(url))
    assert attrs.stored(again).config["n_trials"] == 10
    # Same settings again: a plain resume.
    create_or_resume(url, "study", config(n_trials=10))


def test_resume_refuses_a_foreign_study_with_trials(tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    foreign = optuna.create_study(study_name="theirs", storage=open_storage(url))
    foreign.add_trial(optuna.trial.create_trial(value=1.0))
    with pytest.raises(StoreError, match="not made by pcsearch"):
        create_or_resume(url, "theirs", config())


def test_worker_refuses_a_missing_study(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="'nope' does not exist"):
        run_study(str(tmp_path / "s.journal"), "nope")


def test_worker_refuses_a_study_not_made_by_pcsearch(tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    optuna.create_study(study_name="plain", storage=open_storage(url))
    with pytest.raises(StoreError, match="not created by pcsearch"):
        run_study(url, "plain")


def test_a_finished_study_gives_no_work(tmp_path: Path) -> None:
    """A worker on a study whose slots are all taken returns at once (no training)."""
    url = str(tmp_path / "s.journal")
    study = create_or_resume(url, "full", config(n_trials=1))
    study.add_trial(optuna.trial.create_trial(value=0.5))
    assert run_study(url, "full") == 0


# -- storage URLs ---------------------------------------------------------------------------


def test_storage_with_unknown_suffix_names_value_and_fix(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        open_storage("foo.txt")
    message = str(info.value)
    assert "'foo.txt'" in message
    assert ".journal" in message and "sqlite:///" in message and "postgresql+psycopg2://" in message


def test_storage_with_unknown_scheme_names_value_and_fix() -> None:
    with pytest.raises(StoreError) as info:
        open_storage("redis://x")
    message = str(info.value)
    assert "'redis://x'" in message and "not supported" in message
    assert ".journal" in message and "postgresql+psycopg2://" in message


@pytest.mark.parametrize("form", ["plain", "journal-url"])
def test_journal_paths_open(tmp_path: Path, form: str) -> None:
    path = tmp_path / "sub" / "s.journal"
    url = str(path) if form == "plain" else f"journal://{path}"
    storage = open_storage(url)
    assert isinstance(storage.inner, optuna.storages.JournalStorage)
    optuna.create_study(study_name="x", storage=storage)
    assert path.exists()


def test_sqlite_url_opens(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    assert isinstance(storage.inner._backend, optuna.storages.RDBStorage)
