"""From stored trials to report cells: seeds summarised as the paper did, top-5 scored by
its own best epoch, unfinished studies left out with the reason."""

from __future__ import annotations

import statistics
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from pcsearch.analysis import compare, load_paper_results
from store import attrs, reruns, studies
from store.errors import StoreError
from store.report_data import collect
from store.storage import open_storage

TOP1 = [0.61, 0.64, 0.60, 0.66, 0.63, 0.58, 0.65]
TOP5 = [[0.80, 0.86], [0.84, 0.83], [0.79, 0.81], [0.88, 0.87], [0.82, 0.85], [0.70, 0.78],
        [0.86, 0.89]]  # fmt: skip


def rerun_study(storage, name: str, task: str = "mlp-two-moons") -> optuna.Study:
    config = reruns.rerun_config(
        task, "pc-ce", {"epochs": 2}, list(range(7)), keep_best=5, source="test"
    )
    study = studies.create_or_resume(storage, name, config)
    for t in study.get_trials(states=(TrialState.WAITING,)):
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # replaced below
    return study


def finished_trial(seed: int, top1: float, top5: list[float]) -> optuna.trial.FrozenTrial:
    return create_trial(
        value=top1,
        state=TrialState.COMPLETE,
        user_attrs={
            attrs.SEED: seed,
            attrs.EPOCH_VALUES: [top1 - 0.01, top1],
            attrs.EPOCH_SECONDS: [1.5, 1.0],
            attrs.EPOCH_METRICS: [{"top5_accuracy": v} for v in top5],
        },
    )


def test_cells_of_a_rerun_are_the_best_five_of_seven_for_each_metric(tmp_path: Path):
    storage = open_storage(str(tmp_path / "s.journal"))
    study = rerun_study(storage, "r.seeds")
    for seed, (top1, top5) in enumerate(zip(TOP1, TOP5, strict=True)):
        study.add_trial(finished_trial(seed, top1, top5))
    data = collect(storage, None)
    cells = {c.metric: c for c in data.cells}
    assert set(cells) == {"accuracy", "top5_accuracy"}
    best5 = sorted(TOP1, reverse=True)[:5]
    assert cells["accuracy"].summary.mean == pytest.approx(statistics.fmean(best5))
    assert cells["accuracy"].summary.std == pytest.approx(statistics.pstdev(best5))
    assert cells["accuracy"].seconds == pytest.approx(7 * 2.5)
    top5 = sorted((max(v) for v in TOP5), reverse=True)[:5]
    assert cells["top5_accuracy"].summary.mean == pytest.approx(statistics.fmean(top5))
    assert (cells["top5_accuracy"].summary.n, cells["top5_accuracy"].summary.total) == (5, 7)


def test_an_unfinished_study_is_left_out_and_two_reruns_of_one_cell_are_refused(tmp_path):
    storage = open_storage(str(tmp_path / "s.journal"))
    studies.create_or_resume(
        storage,
        "waiting.seeds",
        reruns.rerun_config("mlp-two-moons", "pc-se", {}, [0, 1], keep_best=1, source="t"),
    )
    data = collect(storage, None)
    assert data.cells == [] and data.skipped == [
        "waiting.seeds: not finished (trials still running or queued)"
    ]
    for name in ("a.seeds", "b.seeds"):
        study = rerun_study(storage, name)
        study.add_trial(finished_trial(0, 0.6, [0.8]))
    with pytest.raises(StoreError, match=r"a\.seeds, .*b\.seeds.*--study"):
        collect(storage, ["a.seeds", "b.seeds"])


def memory_rerun(
    storage, name: str, corruption: str, width: int, values: list[float], task: str = "am-mnist"
) -> None:
    """A finished rerun of one (corruption, d, n = 50) memory cell, as a worker stores it."""
    overrides = {"corruption": corruption, "hidden_width": width, "epochs": 1}
    config = reruns.rerun_config(task, "pc-se", overrides, [0, 1], keep_best=2, source="t")
    study = studies.create_or_resume(storage, name, config)
    for t in study.get_trials(states=(TrialState.WAITING,)):
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    resolved = {"corruption": corruption, "hidden_width": width, "memory_size": 50, "T": 5}
    for seed, value in enumerate(values):
        study.add_trial(
            create_trial(
                value=value,
                state=TrialState.COMPLETE,
                user_attrs={
                    attrs.SEED: seed,
                    attrs.EPOCH_VALUES: [value],
                    attrs.RESOLVED_PARAMS: resolved,
                    attrs.EPOCH_METRICS: [{"cue_mse": 0.04}],
                },
            )
        )


def test_memory_reruns_are_cells_of_their_own_setting(tmp_path):
    """One am-mnist rerun per (corruption, d, n) is one cell each, not two reruns of one
    cell: the setting comes from the trials' resolved values, in Table 3's names."""
    storage = open_storage(str(tmp_path / "s.journal"))
    memory_rerun(storage, "noise.seeds", "noise", 512, [6e-4, 7e-4])
    memory_rerun(storage, "mask.seeds", "mask", 1024, [1e-6, 3e-6])
    cells = {(c.study, c.metric): c for c in collect(storage, None).cells}
    assert set(cells) == {(s, m) for s in ("noise.seeds", "mask.seeds") for m in ("mse", "cue_mse")}
    noise = cells["noise.seeds", "mse"]
    assert noise.setting == (("corruption", "noise"), ("hidden_width", 512), ("images", 50))
    assert noise.summary.mean == pytest.approx(6.5e-4)
    assert cells["mask.seeds", "cue_mse"].setting[:2] == (
        ("corruption", "mask"),
        ("hidden_width", 1024),
    )
    memory_rerun(storage, "again.seeds", "noise", 512, [6e-4, 6e-4])
    with pytest.raises(StoreError, match=r"again\.seeds, noise\.seeds"):
        collect(storage, None)


def test_a_tiny_imagenet_memory_cell_is_compared_with_its_table_3_cell(tmp_path):
    storage = open_storage(str(tmp_path / "s.journal"))
    memory_rerun(storage, "t.seeds", "noise", 512, [6e-4, 6.2e-4], task="am-tinyimagenet")
    cells = [c for c in collect(storage, None).cells if c.metric == "mse"]
    (row,) = compare(cells, load_paper_results())
    assert row.paper is not None and row.paper.mean == pytest.approx(6.06)  # Table 3
    assert row.setting == "corruption=noise, hidden_width=512, images=50"
