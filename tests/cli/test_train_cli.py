"""``pcsearch train`` and the listing commands: ``train --json`` as a real process (its
stdout is one JSON object from start to exit), the rest in this process (``run_main``):
their output and exit code are what is tested."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pcsearch.catalogue import ALGORITHMS, TASKS
from search_spaces import SearchSpace, get_space, list_spaces


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.mark.slow
def test_train_json_prints_one_result_object(run_cli) -> None:
    result = run_cli(
        "train", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--epochs", "3", "--json"
    )
    assert result.returncode == 0, explain(result)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line on stdout:\n{result.stdout}"
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    assert {"task", "algorithm", "params", "status", "metric", "value", "history"} <= set(data)
    assert data["task"] == "mlp-two-moons" and data["algorithm"] == "pc-se"
    assert data["metric"] == "accuracy" and data["status"] == "completed"
    assert 0.0 <= data["value"] <= 1.0
    assert data["params"]["epochs"] == 3 and data["params"]["T"] >= 1
    history = data["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for h in history:
        assert {"epoch", "value", "energy_per_layer", "seconds"} <= set(h)
        assert 0.0 <= h["value"] <= 1.0
        # two hidden layers and the output
        assert len(h["energy_per_layer"]) == 3
        assert all(e >= 0 for e in h["energy_per_layer"])
        assert h["seconds"] > 0
    assert data["value"] == history[-1]["value"]
    assert "jax" in data["environment"] and "device" in data["environment"]


@pytest.mark.slow
def test_train_without_json_prints_a_summary(run_main) -> None:
    result = run_main(
        "train", "--task", "mlp-two-circles", "--algorithm", "bp-se", "--epochs", "2", "--seed", "1"
    )
    assert result.returncode == 0, explain(result)
    assert "mlp-two-circles / bp-se: completed" in result.stdout
    assert "test accuracy:" in result.stdout and "2 epochs" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--task", "mlp-nope", "--algorithm", "pc-se"], ["unknown task 'mlp-nope'", *TASKS]),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-nope"],
            ["unknown algorithm 'pc-nope'", "pc-se", "pc-ce", "bp-se", "ipc"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "stat_lr=0.1"],
            ["unknown hyperparameter 'stat_lr'", "state_lr", "weight_lr", "T"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "state_lr=abc"],
            ["state_lr='abc' is not a valid float", "state_lr=0.01"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "T=2.5"],
            ["T='2.5' is not a valid int"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "state_lr=1000"],
            ["state_lr=1000.0 is outside [0.0, 100.0]"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "activation=swish"],
            ["activation='swish' is not allowed", "gelu", "relu", "tanh"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "beta=0.5"],
            ["'beta' does not apply to 'pc-se'", "pn", "state_lr"],
        ),
        (
            ["--task", "mlp-two-moons", "--algorithm", "pc-se", "--set", "state_lr"],
            ["is not name=value", "--set state_lr=0.01"],
        ),
    ],
    ids=[
        "task",
        "algorithm",
        "parameter",
        "float",
        "int",
        "range",
        "choice",
        "family",
        "no-equals",
    ],
)
def test_train_usage_errors_exit_2_and_say_the_fix(run_main, args, expected) -> None:
    result = run_main("train", *args, "--epochs", "1")
    assert result.returncode == 2, explain(result)
    assert result.stderr.startswith("pcsearch train: error: "), explain(result)
    for text in expected:
        assert text in result.stderr, explain(result)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_tasks_lists_every_task(run_main) -> None:
    result = run_main("tasks")
    assert result.returncode == 0, explain(result)
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == list(TASKS)


def test_algorithms_lists_every_algorithm(run_main) -> None:
    result = run_main("algorithms")
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(ALGORITHMS)
    not_implemented = [line.split()[0] for line in lines if "not implemented" in line]
    assert not_implemented == [n for n, a in ALGORITHMS.items() if not a.implemented]


def test_spaces_lists_every_space(run_main) -> None:
    result = run_main("spaces")
    assert result.returncode == 0, explain(result)
    refs = [line.split()[0] for line in result.stdout.splitlines()]
    assert refs == [s.ref for s in list_spaces()]
    assert "discriminative-pc@1" in refs


def test_spaces_show_prints_the_space_as_json(run_main) -> None:
    result = run_main("spaces", "show", "discriminative-pc")
    assert result.returncode == 0, explain(result)
    data = json.loads(result.stdout)
    assert SearchSpace.from_dict(data) == get_space("discriminative-pc")


def test_spaces_show_unknown_lists_the_names(run_main) -> None:
    result = run_main("spaces", "show", "no-such-space")
    assert result.returncode == 2, explain(result)
    assert "unknown search space 'no-such-space'" in result.stderr
    assert "discriminative-pc" in result.stderr


def test_the_readme_table_of_tasks_is_the_catalogues(run_main) -> None:
    """The README shows `pcsearch tasks --markdown`; a new task must reach both."""
    result = run_main("tasks", "--markdown")
    assert result.returncode == 0, explain(result)
    table = result.stdout.strip()
    assert len(table.splitlines()) == len(TASKS) + 2
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert table in readme, "README.md's task table is stale: paste `pcsearch tasks --markdown`"
