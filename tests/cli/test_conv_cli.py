"""Convolutional tasks from the command line, on synthetic data of CIFAR's shapes: a
training run says it used synthetic data, and a search stores that on every trial."""

from __future__ import annotations

import json

import optuna
import pytest

from store import attrs
from store.storage import open_storage
from tests.cli.test_search_cli import explain


@pytest.mark.slow
def test_train_a_vgg5_task_on_synthetic_data(run_cli):
    # The run of tests/pcsearch/test_conv_models.py's VGG-5 epoch, so that whichever runs
    # second finds its programs in the shared compilation cache.
    result = run_cli(
        "train", "--task", "vgg5-cifar100", "--algorithm", "pc-ce", "--epochs", "1",
        "--synthetic", "--max-batches", "2", "--batch-size", "4", "--set", "T=2",
        "--set", "weight_optimizer=sgd",
    )  # fmt: skip
    assert result.returncode == 0, explain(result)
    assert "vgg5-cifar100 / pc-ce: completed on SYNTHETIC data" in result.stdout


SMALL_SPACE = {
    "name": "tiny-conv", "version": 1, "source": "this test", "description": "small batches",
    "kind": "bayesian", "tasks": ["vgg5-cifar100"], "algorithms": ["bp-ce"],
    "params": {
        "weight_lr": {"type": "float", "low": 1e-4, "high": 1e-3, "log": True},
        "batch_size": {"type": "fixed", "value": 4},
        "weight_optimizer": {"type": "fixed", "value": "sgd"},
        "activation": {"type": "fixed", "value": "gelu"},
    },
}  # fmt: skip
"""One structure for both trials (one compiled program), batches a CPU trains quickly: the
BP run of tests/pcsearch/test_conv_models.py's VGG-5 epoch, sharing its compiled programs."""


@pytest.mark.slow
def test_search_a_vgg5_task_on_synthetic_data(run_cli, tmp_path):
    (tmp_path / "space.json").write_text(json.dumps(SMALL_SPACE))
    result = run_cli(
        "search", "--task", "vgg5-cifar100", "--algorithm", "bp-ce", "--trials", "2",
        "--jobs", "1", "--epochs", "1", "--synthetic", "--max-batches", "2",
        "--space", "space.json", "--storage", "s.journal", "--study", "conv",
    )  # fmt: skip
    assert result.returncode == 0, explain(result, tmp_path)
    study = optuna.load_study(study_name="conv", storage=open_storage(str(tmp_path / "s.journal")))
    assert len(study.trials) == 2
    for t in study.trials:
        assert t.user_attrs[attrs.SYNTHETIC] is True
        assert "top5_accuracy" in t.user_attrs[attrs.EPOCH_METRICS][0]


def test_tasks_lists_the_conv_tasks_and_a_width_never_reaches_a_vgg(run_cli):
    listed = run_cli("tasks")
    assert "vgg5-cifar10" in listed.stdout and "vgg5-cifar100" in listed.stdout
    refused = run_cli(
        "train", "--task", "vgg5-cifar10", "--algorithm", "pc-se", "--set", "hidden_width=64"
    )
    assert refused.returncode == 2
    assert "'hidden_width' does not apply to task 'vgg5-cifar10' (model 'vgg5')" in refused.stderr
