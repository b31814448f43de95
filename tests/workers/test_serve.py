"""The service loop: retried trials of different structure in one batch, and an odd study
(from a newer pcsearch, or naming a task this worker lacks) beside a good one."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna.trial import TrialState

from search_spaces import default_space
from store import attrs
from tests.workers.fleet import assert_study_complete, fleet, make_study, trials_of, wait_until
from workers.loop import Worker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_retries_of_different_structure_in_one_batch_train_apart(tmp_path: Path) -> None:
    """Two queued retries from different batches (T differs) are claimed together by a
    batch of 2; each structure trains as its own program, and nothing fails."""
    url = str(tmp_path / "s.journal")
    space = default_space("mlp-two-moons", "pc-se").to_dict()
    study = make_study(url, "mixed", n_trials=4, epochs=1, batch=2, space=space, max_batches=2)
    study.enqueue_trial({"T": 4, "activation": "gelu", "state_lr": 0.1, "state_momentum": 0.5,
                         "weight_lr": 1e-3, "weight_decay": 1e-4},
                        user_attrs={attrs.RETRY_OF: 90, attrs.ATTEMPT: 2})  # fmt: skip
    study.enqueue_trial({"T": 6, "activation": "hard_tanh", "state_lr": 0.2, "state_momentum": 0.0,
                         "weight_lr": 2e-3, "weight_decay": 1e-5},
                        user_attrs={attrs.RETRY_OF: 91, attrs.ATTEMPT: 2})  # fmt: skip
    batches: list[list] = []
    worker = Worker(url, batch=2, on_trials=batches.append)
    worker.run_study("mixed", until_done=True)
    trials = assert_study_complete(url, "mixed", 4)
    assert not [t for t in trials if t.state == TrialState.FAIL]
    retried = sorted((t.params["T"], t.params["activation"]) for t in trials if attrs.RETRY_OF
                     in t.user_attrs)  # fmt: skip
    assert retried == [(4, "gelu"), (6, "hard_tanh")]
    # The two retries were one claim but two programs: the first two reports are singles.
    assert [len(b) for b in batches][:2] == [1, 1]


def test_an_odd_study_does_not_stop_the_service(pcsearch_exe: str, tmp_path: Path) -> None:
    """The odd studies are refused before any trial runs, so the trials of the good one do
    no training (``PCSEARCH_WORKER_DRY_RUN``): the service loop is the same."""
    url = str(tmp_path / "s.journal")
    newer = make_study(url, "from-the-future", n_trials=2, epochs=1)
    config = dict(attrs.stored(newer).config, from_the_future="best")
    newer.set_user_attr(attrs.CONFIG, config)
    unknown = make_study(url, "unknown-task", n_trials=2, epochs=1)
    unknown.set_user_attr(attrs.CONFIG, dict(attrs.stored(unknown).config, task="vgg99-x"))
    make_study(url, "good", n_trials=3, epochs=1)
    with fleet(pcsearch_exe, tmp_path, url, PCSEARCH_WORKER_DRY_RUN="1") as f:
        worker = f.start("--poll", "0.3")
        wait_until(
            lambda: sum(t.state == TrialState.COMPLETE for t in trials_of(url, "good")) == 3,
            120,
            "the good study",
        )
        assert worker.poll() is None, f.output()
    output = f.output()
    assert worker.returncode == 0, output
    assert "newer pcsearch (unknown config fields: from_the_future)" in output
    assert "unknown task 'vgg99-x'" in output
    assert output.count("skipping study from-the-future") == 1, output
    assert "Traceback" not in output
    assert trials_of(url, "from-the-future") == [] and trials_of(url, "unknown-task") == []
