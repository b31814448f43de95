"""What Optuna is told about a run: the paper's rule (best epoch), or the last epoch."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from pcsearch.training import EpochRecord, RunResult
from store import attrs
from workers.trial_runner import finish


def run(values: list[float | None], status: str = "completed") -> RunResult:
    result = RunResult("mlp-two-moons", "pc-se", {}, 0, "accuracy", "maximize", status=status)
    for epoch, value in enumerate(values, start=1):
        result.history.append(EpochRecord(epoch, value, [1.0], 0.1))
        if value is not None and (result.best_value is None or value > result.best_value):
            result.best_value, result.best_epoch = value, epoch
    result.value = values[-1]
    if status == "diverged":
        result.reason = f"diverged at epoch {len(values)}: non-finite energy or weights"
    return result


def told(result: RunResult, objective: str) -> optuna.trial.FrozenTrial:
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    finish(study, trial, result, objective)
    return study.trials[0]


@pytest.mark.parametrize(("objective", "expected"), [("best", 0.9), ("last", 0.8)])
def test_a_completed_run_is_told_its_best_or_last_epoch(objective: str, expected: float):
    frozen = told(run([0.5, 0.9, 0.8]), objective)
    assert frozen.state == TrialState.COMPLETE and frozen.value == expected
    assert frozen.user_attrs[attrs.EPOCH_VALUES] == [0.5, 0.9, 0.8]
    assert frozen.user_attrs[attrs.BEST_EPOCH] == 2


def test_a_run_that_diverges_after_a_good_epoch_keeps_it_and_says_it_diverged():
    frozen = told(run([0.5, 0.9, None], status="diverged"), "best")
    assert frozen.state == TrialState.COMPLETE and frozen.value == 0.9
    assert frozen.user_attrs[attrs.RUN_STATUS] == "diverged"
    assert frozen.user_attrs[attrs.REASON].startswith("diverged at epoch 3")
    assert frozen.user_attrs[attrs.EPOCH_VALUES] == [0.5, 0.9, None]


def test_under_last_or_with_no_good_epoch_a_diverged_run_is_pruned_with_its_reason():
    assert told(run([0.5, 0.9, None], status="diverged"), "last").state == TrialState.PRUNED
    frozen = told(run([None], status="diverged"), "best")
    assert frozen.state == TrialState.PRUNED and frozen.value is None
    assert frozen.user_attrs[attrs.REASON].startswith("diverged at epoch 1")


def test_the_tasks_other_metrics_are_stored_per_epoch():
    result = run([0.5, 0.9])
    for record, top5 in zip(result.history, (0.8, 0.95), strict=True):
        record.extra["top5_accuracy"] = top5
    frozen = told(result, "best")
    assert frozen.user_attrs[attrs.EPOCH_METRICS] == [
        {"top5_accuracy": 0.8},
        {"top5_accuracy": 0.95},
    ]
    assert attrs.EPOCH_METRICS not in told(run([0.5]), "best").user_attrs
