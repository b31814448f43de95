"""Learning on real data with each task's defaults."""

from __future__ import annotations

import pytest

from pcsearch.training import train


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "threshold"),
    [("mlp-digits", 0.95), ("mlp-two-moons", 0.97), ("mlp-two-circles", 0.97)],
)
def test_pc_se_learns_bundled_tasks_with_defaults(task: str, threshold: float):
    result = train(task, "pc-se")
    assert result.status == "completed"
    assert result.value >= threshold, (task, result.value)
    assert len(result.history) == result.params["epochs"]


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["pc-ce", "ipc", "pn", "nn", "cn", "bp-se", "bp-ce"])
def test_every_algorithm_learns_digits(algorithm: str):
    result = train("mlp-digits", algorithm, {"epochs": 10})
    assert result.status == "completed"
    assert result.value >= 0.85, (algorithm, result.value)


@pytest.mark.slow
def test_mnist_one_epoch_of_pc_ce_with_the_papers_values(mnist_dir):
    result = train("mlp-mnist", "pc-ce", {"epochs": 1}, data_dir=mnist_dir)
    assert result.params["state_lr"] == pytest.approx(0.0183)
    assert result.value >= 0.9
    assert len(result.history[0].energy_per_layer) == 4


def test_huge_state_lr_diverges_with_a_reason_not_a_nan():
    result = train(
        "mlp-two-moons", "pc-se", {"state_lr": 90.0, "state_momentum": 0.9, "T": 30, "epochs": 3}
    )
    assert result.status == "diverged"
    assert result.value is None
    assert result.reason.startswith("diverged at epoch 1")
    assert result.history[-1].value is None


def test_on_epoch_can_stop_a_run():
    seen = []
    result = train(
        "mlp-two-moons", "pc-se", {"epochs": 5}, on_epoch=lambda r: seen.append(r) or True
    )
    assert result.status == "stopped"
    assert len(seen) == 1 and len(result.history) == 1
    assert 0.0 <= result.value <= 1.0
