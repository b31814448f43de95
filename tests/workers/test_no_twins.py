"""A fleet never proposes twin trials, a study's seed makes a one-worker study
reproducible, a grid is covered exactly once, and a new study starts from the paper.

Real ``pcsearch worker`` / ``pcsearch search`` / ``pcsearch api`` processes on the
machine's Postgres. Most trials do no training (``PCSEARCH_WORKER_DRY_RUN``: sampling,
claiming and telling are the same code whatever a trial computes); one search trains.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from optuna.trial import FrozenTrial, TrialState

from pcsearch.params import PAPER_BEST
from search_spaces import default_space
from store import attrs, studies, warm_start
from store.attrs import ORDINAL_PREFIX
from store.config import StudyConfig
from store.storage import open_storage
from tests.api.helpers import TOKENS, api_process
from tests.workers.fleet import (
    FINISHED,
    assert_study_complete,
    fixed_space,
    fleet,
    make_study,
    trials_of,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]
DRY = {"PCSEARCH_WORKER_DRY_RUN": "1", "PCSEARCH_DRY_RUN_EPOCH_SECONDS": "0.05"}
UNTIL_DONE = ("--until-done", "--poll", "0.3")

GRID = {
    "name": "twin-test-grid",
    "version": 1,
    "source": "this test",
    "description": "24 points: enough for three workers to collide if they could",
    "kind": "grid",
    "tasks": ["mlp-two-moons"],
    "algorithms": ["pc-se"],
    "params": {
        "state_lr": {"type": "categorical", "choices": [0.01, 0.02, 0.05, 0.1]},
        "weight_lr": {"type": "categorical", "choices": [0.001, 0.003, 0.01]},
        "T": {"type": "categorical", "choices": [4, 6]},
        "activation": {"type": "fixed", "value": "tanh"},
    },
}


def key(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))


def finished(url: str, name: str) -> list[FrozenTrial]:
    done = [t for t in trials_of(url, name) if t.state in FINISHED]
    return sorted(done, key=lambda t: t.number)


def twins(trials: list[FrozenTrial]) -> list[tuple]:
    seen = [key(t.params) for t in trials]
    return [k for k in set(seen) if seen.count(k) > 1]


def ordinals(url: str, name: str) -> list[int]:
    storage = open_storage(url)
    found = storage.get_study_system_attrs(storage.get_study_id_from_name(name))
    return sorted(v for k, v in found.items() if k.startswith(ORDINAL_PREFIX))


def run_alone(exe: str, folder: Path, url: str, name: str) -> list[tuple]:
    """One worker runs the study to its end; its finished trials' parameters, in order."""
    folder.mkdir()
    with fleet(exe, folder, url, **DRY) as f:
        f.start("--study", name, *UNTIL_DONE)
        assert f.wait(timeout=90) == [0], f.output()
    return [key(t.params) for t in finished(url, name)]


def test_four_workers_on_one_study_propose_no_twins(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    """TPE, the default sampler, and no ``--seed``: the measured case that gave twins (20
    trials: TPE's 10 random startup trials, then 10 of its own)."""
    make_study(postgres_url, "four", n_trials=20, epochs=1, sampler="tpe")
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
        for _ in range(4):
            f.start("--study", "four", *UNTIL_DONE)
        codes = f.wait(timeout=180)
        output = f.output()
    assert codes == [0, 0, 0, 0], output
    assert_study_complete(postgres_url, "four", 20)
    assert twins(finished(postgres_url, "four")) == [], output
    assert ordinals(postgres_url, "four") == [0, 1, 2, 3]


def test_a_seed_reproduces_a_one_worker_study_and_other_seeds_or_names_differ(
    postgres_url: str, fresh_database: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    """One worker per study, each study alone on its sampler: the first run, another seed
    of the same name (in a second database: a name is unique in one) and another name of
    the same seed run side by side; then the first study is made again and rerun."""
    storage = open_storage(postgres_url)
    make_study(postgres_url, "repro", n_trials=12, epochs=1, sampler="tpe", seed=5)
    make_study(fresh_database, "repro", n_trials=12, epochs=1, sampler="tpe", seed=6)
    make_study(postgres_url, "repro-2", n_trials=12, epochs=1, sampler="tpe", seed=5)
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
        f.start("--study", "repro", *UNTIL_DONE)
        elsewhere = {"PCSEARCH_DATABASE_URL": fresh_database}
        f.start("--study", "repro", *UNTIL_DONE, extra_env=elsewhere)
        f.start("--study", "repro-2", *UNTIL_DONE)
        assert f.wait(timeout=90) == [0, 0, 0], f.output()
    first = [key(t.params) for t in finished(postgres_url, "repro")]
    other_seed = [key(t.params) for t in finished(fresh_database, "repro")]
    other_name = [key(t.params) for t in finished(postgres_url, "repro-2")]
    studies.delete(storage, "repro")
    make_study(postgres_url, "repro", n_trials=12, epochs=1, sampler="tpe", seed=5)
    again = run_alone(pcsearch_exe, tmp_path / "again", postgres_url, "repro")
    assert len(first) == 12 and again == first  # past TPE's 10 random startup trials
    assert len(other_seed) == len(other_name) == 12
    assert set(other_seed).isdisjoint(first)
    assert set(other_name).isdisjoint(first)


def test_three_workers_visit_every_grid_point_exactly_once(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    grid = [dict(zip(("state_lr", "weight_lr", "T"), p, strict=True)) for p in itertools.product(
        *(GRID["params"][n]["choices"] for n in ("state_lr", "weight_lr", "T"))
    )]  # fmt: skip
    make_study(postgres_url, "grid", n_trials=len(grid), epochs=1, sampler="grid", space=GRID)
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
        for i in range(3):
            f.start("--study", "grid", *UNTIL_DONE, *(["--batch", "4"] if i == 0 else []))
        codes = f.wait(timeout=180)
        output = f.output()
    assert codes == [0, 0, 0], output
    trials = assert_study_complete(postgres_url, "grid", len(grid))
    assert [t.number for t in trials if t.state == TrialState.FAIL] == [], output
    assert sorted(key(t.params) for t in trials) == sorted(key(p) for p in grid)


def test_a_search_with_training_on_two_workers_proposes_no_twins(
    postgres_url: str, run_main: Callable[..., subprocess.CompletedProcess], tmp_path: Path
) -> None:
    """Real training (two circles, one short epoch a trial), the embedded search's way: its
    two worker processes are real; the search command itself runs in this process. The
    structure is pinned, so the trials share one compiled program."""
    space = tmp_path / "space.json"
    space.write_text(json.dumps(fixed_space("mlp-two-circles", "pc-se", T=4, activation="tanh")))
    no_dry_run = {k: None for k in os.environ if k.startswith("PCSEARCH_WORKER_DRY")}
    done = run_main(
        "search", "--task", "mlp-two-circles", "--algorithm", "pc-se", "--space", str(space),
        "--trials", "6", "--epochs", "1", "--max-batches", "2", "--jobs", "2",
        "--pruner", "none", "--storage", postgres_url, "--study", "trained", env=no_dry_run,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    trials = assert_study_complete(postgres_url, "trained", 6)
    assert twins([t for t in trials if t.state in FINISHED]) == []
    assert ordinals(postgres_url, "trained") == [0, 1]
    for t in trials:  # trained for real, on the data set
        assert "dry_run" not in t.user_attrs["environment"], t.user_attrs["environment"]
        assert t.user_attrs.get(attrs.WARM_START) is None  # the paper has no two-circles values


def paper_params(task: str, algorithm: str) -> dict[str, Any]:
    searched = default_space(task, algorithm).distributions(algorithm)
    return {n: v for n, v in PAPER_BEST[(task, algorithm)].items() if n in searched}


def test_warm_start_through_the_api_and_status(
    postgres_url: str,
    pcsearch_exe: str,
    run_main: Callable[..., subprocess.CompletedProcess],
    tmp_path: Path,
) -> None:
    """The API and the workers are real processes; ``submit`` and ``status``, the client
    commands whose output is tested, run in this process."""
    expected = paper_params("mlp-mnist", "pc-se")
    assert set(expected) == {"T", "activation", "state_lr", "state_momentum", "weight_lr",
                             "weight_decay"} and expected["state_lr"] == 0.0105  # fmt: skip
    with api_process(postgres_url, tmp_path / "api.log") as api:
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PCSEARCH_API")}
        env |= {"PCSEARCH_API_URL": api.url, "PCSEARCH_API_TOKEN": TOKENS[0]}

        def cli(*args: str) -> str:
            done = run_main(*args, env=env)
            assert done.returncode == 0, done.stderr
            return done.stdout

        submit = ("submit", "--task", "mlp-mnist", "--algorithm", "pc-se", "--trials", "3",
                  "--epochs", "1", "--seed", "2")  # fmt: skip
        cli(*submit, "--name", "warm")
        cli(*submit, "--name", "cold", "--no-warm-start")
        with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
            f.start("--study", "warm", *UNTIL_DONE)
            f.start("--study", "cold", *UNTIL_DONE)
            assert f.wait(timeout=90) == [0, 0], f.output()
        headers = {"Authorization": f"Bearer {TOKENS[0]}"}
        rows = {
            name: httpx.get(f"{api.url}/api/v1/studies/{name}/trials", headers=headers).json()
            for name in ("warm", "cold")
        }
        warm_status, cold_status = cli("status", "warm"), cli("status", "cold")
    warm, cold = rows["warm"]["items"], rows["cold"]["items"]
    assert [t["warm_start"] for t in warm] == ["paper", None, None], warm
    assert warm[0]["params"] == expected and warm[0]["state"] == "complete"
    assert all(t["params"] != expected for t in warm[1:])
    assert [t["warm_start"] for t in cold] == [None, None, None], cold
    assert all(t["params"] != expected for t in cold)
    value = f"{warm[0]['value']:.4f}"
    line = f"warm start: trial 0 runs the paper's best values (complete, value {value})"
    assert line in warm_status.splitlines(), warm_status
    assert "warm start" not in cold_status, cold_status


def test_warm_start_in_search_and_its_switch(
    postgres_url: str, run_main: Callable[..., subprocess.CompletedProcess]
) -> None:
    """The search command runs in this process, its worker is a real one."""
    base = ["search", "--task", "mlp-fashionmnist", "--algorithm", "pn",
            "--trials", "2", "--epochs", "1", "--jobs", "1", "--storage", postgres_url]  # fmt: skip
    for name, extra in (("search-warm", []), ("search-cold", ["--no-warm-start"])):
        done = run_main(*base, "--study", name, *extra, env=DRY)
        assert done.returncode == 0, done.stderr[-3000:]
    warm, cold = finished(postgres_url, "search-warm"), finished(postgres_url, "search-cold")
    expected = paper_params("mlp-fashionmnist", "pn")
    assert {"beta", "beta_increment", "T"} <= set(expected)  # nudging's own values too
    assert [t.user_attrs.get(attrs.WARM_START) for t in warm] == ["paper", None]
    assert warm[0].params == expected and warm[1].params != expected
    assert [t.user_attrs.get(attrs.WARM_START) for t in cold] == [None, None]
    assert all(t.params != expected for t in cold)


def test_paper_values_outside_the_space_are_left_to_the_sampler(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No clipping: the out-of-range value is sampled, the rest are the paper's; reruns,
    grids and configs stored before ``warm_start`` existed get no warm start."""
    space = default_space("mlp-mnist", "pc-se").to_dict()
    space["params"]["weight_lr"] = {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}
    space["params"]["activation"] = {"type": "categorical", "choices": ["relu", "tanh"]}
    values = {"task": "mlp-mnist", "algorithm": "pc-se", "space": space, "n_trials": 2}
    storage = open_storage(postgres_url)
    with caplog.at_level(logging.WARNING, logger="pcsearch.worker"):
        study = studies.create(storage, "narrow", StudyConfig(**values))
    (queued,) = study.get_trials(states=(TrialState.WAITING,))
    paper = PAPER_BEST[("mlp-mnist", "pc-se")]
    fixed = queued.system_attrs["fixed_params"]
    assert set(fixed) == {"T", "state_lr", "state_momentum", "weight_decay"}
    assert all(fixed[n] == paper[n] for n in fixed)
    assert queued.user_attrs[attrs.WARM_START] == warm_start.PAPER
    assert "the paper's weight_lr=0.000297 is not in" in caplog.text, caplog.text
    assert "the paper's activation='gelu' is not in" in caplog.text, caplog.text

    rerun = StudyConfig(**values | {"seeds": [1, 2]})
    assert warm_start.enqueue(studies.create(storage, "rerun", rerun), rerun) is None
    assert all(attrs.WARM_START not in t.user_attrs for t in trials_of(postgres_url, "rerun"))
    old = StudyConfig(**values).to_dict()
    del old["warm_start"]
    assert StudyConfig.from_dict(old).warm_start is True  # loads; only creation enqueues
    with pytest.raises(Exception, match="warm_start='yes' must be true or false"):
        StudyConfig(**values, warm_start="yes")
