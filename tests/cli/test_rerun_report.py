"""The paper's protocol end to end: a small search, its best trial rerun on 3 seeds, and
the report and comparison made from the storage, all on a journal file. The commands run
in this process (their output is what is checked); their workers are real processes that
train for real.
"""

from __future__ import annotations

import csv
import io
import statistics

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from store import attrs
from store.storage import open_storage
from tests.cli.conftest import run_in_process
from tests.cli.test_search_cli import explain, write_space

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory):
    """A search of 4 trials with energy traces, then 3 seeds of its best, then a report.

    One worker each, and the default space with T and activation fixed: one program to
    compile (the protocol, not the search, is tested here; the values still differ, and
    the report plots the metric against state_lr)."""
    folder = tmp_path_factory.mktemp("protocol")

    def run(*args: str):
        return run_in_process(*args, cwd=folder)

    space = write_space(
        folder / "moons.json",
        name="test-protocol",
        kind="bayesian",
        tasks=["mlp-two-moons"],
        algorithms=["pc-se"],
        params={
            "T": {"type": "fixed", "value": 8},
            "activation": {"type": "fixed", "value": "gelu"},
            "state_lr": {"type": "float", "low": 0.01, "high": 0.5, "log": True},
            "weight_lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        },
    )
    common = ("--storage", str(folder / "s.journal"))
    search = run(
        "search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "4",
        "--jobs", "1", "--epochs", "4", "--pruner", "none", "--study", "moons",
        "--space", str(space), "--energy-trace", *common,
    )  # fmt: skip
    assert search.returncode == 0, explain(search, folder)
    rerun = run(
        "rerun", "--study", "moons", "--seeds", "3", "--keep-best", "2", "--jobs", "1", *common
    )
    assert rerun.returncode == 0, explain(rerun, folder)
    report = run("report", "--out", str(folder / "report"), "--compare", *common)
    assert report.returncode == 0, explain(report, folder)
    compare = run("compare", *common)
    assert compare.returncode == 0, explain(compare, folder)
    storage = open_storage(str(folder / "s.journal"))
    return folder, storage, rerun, compare


def trials(storage, name: str):
    return optuna.load_study(study_name=name, storage=storage).get_trials()


def test_a_trials_value_is_its_best_epoch(finished):
    _, storage, _, _ = finished
    complete = [t for t in trials(storage, "moons") if t.state == TrialState.COMPLETE]
    assert len(complete) == 4
    for t in complete:
        epochs = t.user_attrs[attrs.EPOCH_VALUES]
        assert t.value == max(epochs)
        assert epochs[t.user_attrs[attrs.BEST_EPOCH] - 1] == t.value
        trace = np.asarray(t.user_attrs[attrs.ENERGY_PER_STEP])
        assert trace.shape == (t.user_attrs[attrs.RESOLVED_PARAMS]["T"] + 1, 3)


def test_the_rerun_trains_the_best_configuration_on_each_seed(finished):
    _, storage, rerun, _ = finished
    best = optuna.load_study(study_name="moons", storage=storage).best_trial
    seeds = trials(storage, "moons.seeds")
    assert sorted(t.user_attrs[attrs.SEED] for t in seeds) == [0, 1, 2]
    assert all(t.state == TrialState.COMPLETE for t in seeds)
    wanted = best.user_attrs[attrs.RESOLVED_PARAMS]
    for t in seeds:
        assert t.user_attrs[attrs.RESOLVED_PARAMS] == wanted
        assert t.user_attrs[attrs.DATA_SEED] == t.user_attrs[attrs.SEED]
    values = sorted((t.value for t in seeds), reverse=True)[:2]
    line = f"accuracy: {statistics.fmean(values):.4f} ± {statistics.pstdev(values):.4f}"
    assert line in rerun.stdout, rerun.stdout


def test_the_report_holds_the_table_csv_every_plot_and_an_index(finished):
    folder, storage, _, _ = finished
    out = folder / "report"
    values = sorted((t.value for t in trials(storage, "moons.seeds")), reverse=True)[:2]
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    table = (out / "table.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| mlp-two-moons"))
    assert f"{100 * mean:.2f} ± {100 * std:.2f}" in row
    assert "best 2 of 3 seeds" in table
    rows = list(csv.DictReader(io.StringIO((out / "table.csv").read_text())))
    assert len(rows) == 1 and rows[0]["study"] == "moons.seeds"
    assert float(rows[0]["mean"]) == pytest.approx(mean, abs=1e-12)
    assert float(rows[0]["std"]) == pytest.approx(std, abs=1e-12)
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == [
        "moons-energy-per-step.png", "moons-history.png", "moons-imbalance.png",
        "moons-metric-vs-state-lr.png",
    ]  # fmt: skip
    import matplotlib.image

    index = (out / "index.md").read_text()
    for name in pngs:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        height, width = matplotlib.image.imread(out / name).shape[:2]
        assert height > 200 and width > 200
        assert f"]({name})" in index
    for name in ("table.md", "table.csv", "comparison.md", "comparison.csv"):
        assert f"]({name})" in index


def test_compare_lines_up_the_measured_cell_by_task_and_algorithm(finished):
    _, _, _, compare = finished
    row = next(line for line in compare.stdout.splitlines() if "mlp-two-moons" in line)
    assert "| pc-se |" in row and "no paper number" in row
