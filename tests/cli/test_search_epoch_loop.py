"""``pcsearch search --epoch-loop`` reaches every trial: the study stores the choice, the
workers train with it, and each trial's environment names the loop that drove it."""

from __future__ import annotations

import optuna

from store import attrs
from store.storage import open_storage
from tests.cli.test_search_cli import explain


def test_a_searchs_epoch_loop_drives_its_trials(run_cli, tmp_path):
    result = run_cli(
        "search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "2",
        "--jobs", "1", "--epochs", "1", "--max-batches", "2", "--epoch-loop", "steps",
        "--storage", "s.journal", "--study", "loops",
    )  # fmt: skip
    assert result.returncode == 0, explain(result, tmp_path)
    study = optuna.load_study(study_name="loops", storage=open_storage(str(tmp_path / "s.journal")))
    assert attrs.stored(study).config["epoch_loop"] == "steps"
    assert len(study.trials) == 2
    for t in study.trials:  # auto would drive an MLP's epoch with one scan on a CPU
        assert t.user_attrs[attrs.ENVIRONMENT]["epoch_loop"] == "steps"
