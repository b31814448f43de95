"""Epochs a task's mode does not score (associative memory scores only the last) reach the
trial as null values and are not reported to the pruner."""

from __future__ import annotations

import optuna

from pcsearch.training.records import EpochRecord
from store import attrs
from workers.trial_runner import TrialRecorder


def test_an_unscored_epoch_is_stored_but_not_reported() -> None:
    study = optuna.create_study(direction="minimize")
    trial = study.ask()
    recorder = TrialRecorder(trial, lambda t: False)
    assert not recorder(EpochRecord(1, None, [1.0, 2.0], 0.5))
    assert not recorder(EpochRecord(2, 0.004, [0.5, 1.0], 0.5))
    frozen = study._storage.get_trial(trial._trial_id)
    assert frozen.user_attrs[attrs.EPOCH_VALUES] == [None, 0.004]
    assert frozen.intermediate_values == {2: 0.004}
