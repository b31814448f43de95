"""``pcsearch search``: real embedded searches on local worker processes and a journal file.

Each test runs the command in tmp_path (in this process, ``run_main``: its workers are
real processes that train for real) and then reads the study back from the journal, the
way a researcher (or optuna-dashboard) would. A structure (T, activation) is compiled once
per worker, so the spaces here fix it where the test is not about structures.
"""

from __future__ import annotations

import subprocess
from itertools import groupby
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from pcsearch.hyperparams import TRACED_NAMES
from search_spaces import SearchSpace
from store.storage import open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def explain(result: subprocess.CompletedProcess, folder: Path | None = None) -> str:
    text = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    if folder is not None:
        for log in sorted(folder.glob("pcsearch-logs/*/worker-*.log")):
            text += f"\n--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
    return text


def assert_clean_worker_logs(folder: Path) -> None:
    """No worker logged an exception: a failing trial or tell is logged with a traceback."""
    logs = sorted(folder.glob("pcsearch-logs/*/worker-*.log"))
    assert logs, "no worker logs were written"
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, f"--- {log.name}\n{text[-4000:]}"


def trials_of(storage: Path, study: str) -> list[FrozenTrial]:
    return optuna.load_study(study_name=study, storage=open_storage(str(storage))).get_trials()


def printed_parameters(stdout: str) -> dict[str, str]:
    """The ``  name = value`` lines that follow ``best parameters:``."""
    lines = stdout.split("best parameters:\n", 1)[1].splitlines()
    pairs = [line.strip().split(" = ", 1) for line in lines if line.startswith("  ")]
    return dict(pairs)


def write_space(path: Path, **fields) -> Path:
    """A custom space file, built and checked through SearchSpace like a user's would be."""
    data = {"version": 1, "source": "written by the test", "description": "test space"}
    SearchSpace.from_dict({**data, **fields}).save(path)
    return path


def test_bad_storage_is_a_usage_error(run_main) -> None:
    result = run_main(
        "search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "2",
        "--storage", "results.txt",
    )  # fmt: skip
    assert result.returncode == 2, explain(result)
    assert "'results.txt'" in result.stderr and ".journal" in result.stderr
    assert "Traceback" not in result.stderr


def test_grid_sampler_with_bayesian_space_is_a_usage_error(run_main) -> None:
    result = run_main(
        "search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "2",
        "--sampler", "grid", "--storage", "s.journal",
    )  # fmt: skip
    assert result.returncode == 2, explain(result)
    assert "bayesian space" in result.stderr and "'grid'" in result.stderr


@pytest.mark.slow
def test_two_worker_search_finishes_exactly_its_trials(run_main, tmp_path: Path) -> None:
    storage = tmp_path / "s.journal"
    # The default space's ranges where two moons train well: T and activation fixed (one
    # program to compile, not one per trial), weight_lr from 5e-3 (below it some runs are
    # still at 0.95 after 8 epochs). Every configuration of it reaches > 0.98 in 8 epochs,
    # and a worker's first trial is never pruned (the median pruner waits for 4 finished
    # trials), so the study's best is above 0.97 however the 8 trials are shared between
    # the workers.
    space = write_space(
        tmp_path / "moons.json",
        name="test-moons",
        kind="bayesian",
        tasks=["mlp-two-moons"],
        algorithms=["pc-se"],
        params={
            "T": {"type": "fixed", "value": 8},
            "activation": {"type": "fixed", "value": "gelu"},
            "state_lr": {"type": "float", "low": 0.05, "high": 0.2, "log": True},
            "state_momentum": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.05},
            "weight_lr": {"type": "float", "low": 5e-3, "high": 1e-2, "log": True},
            "weight_decay": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True},
        },
    )
    result = run_main(
        "search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "8",
        "--jobs", "2", "--epochs", "8", "--seed", "10", "--space", str(space),
        "--storage", str(storage), "--study", "moons",
    )  # fmt: skip
    assert result.returncode == 0, explain(result, tmp_path)
    assert_clean_worker_logs(tmp_path)

    trials = trials_of(storage, "moons")
    states = [t.state for t in trials]
    assert len(trials) == 8, f"states: {states}"
    assert all(s in FINISHED for s in states), f"states: {states}"

    study = optuna.load_study(study_name="moons", storage=open_storage(str(storage)))
    assert study.best_value >= 0.97, [t.user_attrs.get("epoch_values") for t in trials]

    for t in trials:
        attrs = t.user_attrs
        reported = len(t.intermediate_values)
        assert reported >= 1
        assert len(attrs["epoch_values"]) == reported
        assert attrs["epoch_values"] == [t.intermediate_values[e] for e in range(1, reported + 1)]
        assert len(attrs["energy_per_layer"]) == reported
        assert all(len(layers) == 3 for layers in attrs["energy_per_layer"])
        assert len(attrs["epoch_seconds"]) == reported
        assert all(s > 0 for s in attrs["epoch_seconds"])
        assert {"jax", "device"} <= set(attrs["environment"])
        assert attrs["seed"] == 10 * 100_003 + t.number
        assert attrs["resolved_params"]["epochs"] == 8
        if t.state == TrialState.COMPLETE:
            assert attrs["status"] in ("completed", "diverged")
            assert attrs["status"] == "diverged" or reported == 8
            assert t.value == max(v for v in attrs["epoch_values"] if v is not None)
        else:
            assert attrs["status"] in ("stopped", "diverged") and attrs["reason"]

    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2, workers

    best = study.best_trial
    assert f"best value: {best.value:.4f} (trial {best.number})" in result.stdout
    assert "best parameters:" in result.stdout
    printed = printed_parameters(result.stdout)
    assert set(printed) == set(best.params), result.stdout
    for name, value in best.params.items():
        if isinstance(value, float):
            assert float(printed[name]) == pytest.approx(value, rel=1e-5), name
        else:
            assert printed[name] == str(value), name
    assert f"pcsearch dashboard --storage {storage}" in result.stdout
    assert "trials 8/8 done" in result.stderr


@pytest.mark.slow
def test_a_diverging_trial_is_pruned_with_its_reason(run_main, tmp_path: Path) -> None:
    # state_lr=80 with 20 inference steps and momentum 0.9 overflows the states to inf/nan
    # in the first epoch. (With T=8 the states reach ~1e31 but stay finite, and AdamW's
    # normalised steps keep the weights finite, so that run would count as completed.)
    space = write_space(
        tmp_path / "diverge.json",
        name="test-diverge",
        kind="grid",
        tasks=["mlp-two-moons"],
        algorithms=["pc-se"],
        params={
            "state_lr": {"type": "categorical", "choices": [0.01, 80.0]},
            "T": {"type": "fixed", "value": 20},
            "state_momentum": {"type": "fixed", "value": 0.9},
        },
    )
    storage = tmp_path / "s.journal"
    result = run_main(
        "search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "2",
        "--jobs", "1", "--epochs", "4", "--space", str(space), "--sampler", "grid",
        "--storage", str(storage), "--study", "diverge",
    )  # fmt: skip
    assert result.returncode == 0, explain(result, tmp_path)
    assert_clean_worker_logs(tmp_path)
    assert "exited with errors" not in result.stderr

    trials = {t.params["state_lr"]: t for t in trials_of(storage, "diverge")}
    assert set(trials) == {0.01, 80.0}
    bad, good = trials[80.0], trials[0.01]
    assert bad.state == TrialState.PRUNED
    assert bad.user_attrs["status"] == "diverged"
    assert bad.user_attrs["reason"].startswith("diverged at epoch 1")
    assert bad.user_attrs["resolved_params"]["T"] == 20
    assert good.state == TrialState.COMPLETE
    assert good.user_attrs["status"] == "completed"
    assert len(good.user_attrs["epoch_values"]) == 4
    assert "reason" not in good.user_attrs
    assert "best parameters:" in result.stdout and "state_lr = 0.01" in result.stdout


@pytest.mark.slow
def test_median_pruner_stops_hopeless_trials(run_main, tmp_path: Path) -> None:
    # weight_lr 1e-6 leaves digits at chance (~0.10) while 3e-3 reaches ~0.9 after one
    # epoch: once 4 trials have finished, the median pruner stops the hopeless ones.
    space = write_space(
        tmp_path / "prune.json",
        name="test-prune",
        kind="bayesian",
        tasks=["mlp-digits"],
        algorithms=["pc-se"],
        params={
            "weight_lr": {"type": "categorical", "choices": [3e-3, 1e-6]},
            "T": {"type": "fixed", "value": 8},
            "activation": {"type": "fixed", "value": "gelu"},
            "state_lr": {"type": "fixed", "value": 0.05},
            "state_momentum": {"type": "fixed", "value": 0.5},
            "weight_decay": {"type": "fixed", "value": 1e-4},
        },
    )
    storage = tmp_path / "s.journal"
    result = run_main(
        "search", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "10",
        "--jobs", "1", "--epochs", "6", "--space", str(space), "--sampler", "random",
        "--pruner", "median", "--seed", "0", "--storage", str(storage), "--study", "prune",
    )  # fmt: skip
    assert result.returncode == 0, explain(result, tmp_path)
    assert_clean_worker_logs(tmp_path)

    trials = trials_of(storage, "prune")
    assert len(trials) == 10 and all(t.state in FINISHED for t in trials)
    stopped = [t for t in trials if t.state == TrialState.PRUNED]
    assert stopped, [(t.params, t.user_attrs.get("epoch_values")) for t in trials]
    for t in stopped:
        epochs = len(t.user_attrs["epoch_values"])
        assert t.user_attrs["status"] == "stopped"
        assert t.user_attrs["reason"] == f"stopped after epoch {epochs}"
        assert epochs < 6 and len(t.intermediate_values) == epochs
    assert any(t.params["weight_lr"] == 1e-6 for t in stopped)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert all(len(t.user_attrs["epoch_values"]) == 6 for t in complete)


@pytest.mark.slow
def test_batched_search_keeps_structure_equal_within_a_batch(run_main, tmp_path: Path) -> None:
    storage = tmp_path / "s.journal"
    result = run_main(
        "search", "--task", "mlp-two-circles", "--algorithm", "pc-se", "--trials", "6",
        "--jobs", "1", "--batch", "3", "--epochs", "4", "--seed", "3",
        "--storage", str(storage), "--study", "batched",
    )  # fmt: skip
    assert result.returncode == 0, explain(result, tmp_path)
    assert_clean_worker_logs(tmp_path)

    trials = trials_of(storage, "batched")
    assert len(trials) == 6 and all(t.state in FINISHED for t in trials)
    by_worker = sorted(trials, key=lambda t: (t.user_attrs["worker"], t.number))
    batches = []
    for _, group in groupby(by_worker, key=lambda t: t.user_attrs["worker"]):
        group = list(group)
        batches += [group[i : i + 3] for i in range(0, len(group), 3)]
    assert [len(b) for b in batches] == [3, 3]
    for batch in batches:
        numbers = [t.number for t in batch]
        assert numbers == list(range(numbers[0], numbers[0] + 3)), numbers
        for name in ("T", "activation"):
            assert len({t.params[name] for t in batch}) == 1, [t.params for t in batch]
        structural = [
            {k: v for k, v in t.user_attrs["resolved_params"].items() if k not in TRACED_NAMES}
            for t in batch
        ]
        assert all(s == structural[0] for s in structural), structural
        # The members are distinct trials: their traced values differ.
        assert len({t.params["weight_lr"] for t in batch}) == 3
