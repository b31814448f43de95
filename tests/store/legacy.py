"""Studies as an older pcsearch wrote them, for the tests that existing databases keep
working: the whole config in the ``pcsearch`` user attribute and the control flag in the
``status`` user attribute (what ``store.studies._describe`` wrote up to commit 4bf3a6e),
with no system attribute of pcsearch's and no metric name."""

from __future__ import annotations

import optuna

from store.config import StudyConfig
from store.storage import open_storage


def make_legacy_study(
    url: str, name: str, config: StudyConfig, status: str = "active"
) -> optuna.Study:
    study = optuna.create_study(
        study_name=name, storage=open_storage(url), direction=config.direction
    )
    for key, value in {
        "pcsearch": config.to_dict(),
        "task": config.task,
        "algorithm": config.algorithm,
        "space": config.search_space().ref,
        "status": status,
    }.items():
        study.set_user_attr(key, value)
    return study


def small_config(n_trials: int = 3, **changes: object) -> StudyConfig:
    """A two-moons study whose trials share one structure, one epoch each."""
    from tests.workers.fleet import fixed_space

    values: dict[str, object] = {
        "task": "mlp-two-moons",
        "algorithm": "pc-se",
        "space": fixed_space("mlp-two-moons", "pc-se", T=4, activation="tanh"),
        "n_trials": n_trials,
        "sampler": "random",
        "pruner": "none",
        "overrides": {"epochs": 1},
        "seed": 3,
    }
    return StudyConfig(**(values | changes))  # type: ignore[arg-type]
