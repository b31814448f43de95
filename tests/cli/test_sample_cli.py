"""``pcsearch sample``: an MCPC task trained on its defaults, its samples kept and plotted
against the data (the paper's Fig. 4). The command runs in this process (``run_main``):
what it writes is the point. The runs are cut short (few steps, few batches)."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.training.mmd import mmd
from tests.cli.test_search_cli import explain
from tests.pcsearch.analysis.test_analysis_plots import assert_png

SHORT = ("--set", "T=5", "--set", "T_sample=50")


def test_iris_samples_are_the_scored_ones_with_the_datas_shape(run_main, tmp_path):
    result = run_main(
        "sample", "--task", "mcpc-iris", "--epochs", "2", "--max-batches", "3", *SHORT,
        "--out", "iris",
    )  # fmt: skip
    assert result.returncode == 0, explain(result)
    out = tmp_path / "iris"
    index = (out / "index.md").read_text()
    for name in ("samples.npz", "samples-vs-data.png", "run.json"):
        assert f"]({name})" in index
    assert_png(out / "samples-vs-data.png")
    with np.load(out / "samples.npz") as saved:
        samples, data, train = saved["samples"], saved["data"], saved["train"]
    assert samples.shape == (1024, 2) and data.shape == (50, 2) and train.shape == (100, 2)
    assert np.all(np.isfinite(samples))
    run = json.loads((out / "run.json").read_text())
    assert run["task"] == "mcpc-iris" and run["algorithm"] == "mcpc" and not run["synthetic"]
    assert run["params"]["T_sample"] == 50 and len(run["history"]) == 2
    # the samples are the ones the last epoch's evaluation scored: their MMD is its value
    score = float(mmd(jnp.asarray(samples), jnp.asarray(data)))
    assert score == pytest.approx(run["history"][-1]["value"], rel=1e-3, abs=1e-5)
    assert f"**{score:.4g}**" in index
    assert "pcsearch sample --task mcpc-iris --seed 0 --epochs 2" in index


def test_mnist_samples_make_an_image_grid(run_main, tmp_path):
    result = run_main(
        "sample", "--task", "mcpc-mnist", "--synthetic", "--max-batches", "1", "--epochs", "1",
        "--set", "T=3", "--set", "T_sample=3", "--set", "batch_size=150", "--out", "mnist",
    )  # fmt: skip
    assert result.returncode == 0, explain(result)
    out = tmp_path / "mnist"
    assert_png(out / "samples-grid.png")
    assert_png(out / "data-grid.png")
    with np.load(out / "samples.npz") as saved:
        assert saved["samples"].shape[1:] == saved["data"].shape[1:]
        assert saved["samples"].shape[0] == 1024
    index = (out / "index.md").read_text()
    assert "SYNTHETIC" in index and "](samples-grid.png)" in index


def test_a_task_that_does_not_sample_is_one_line_and_exit_2(run_main, tmp_path):
    result = run_main("sample", "--task", "mlp-two-moons", "--out", "x")
    assert result.returncode == 2
    assert "--task mlp-two-moons is a discriminative task, not a sampling one" in result.stderr
    assert "mcpc-iris" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


def test_an_out_folder_that_cannot_be_made_is_one_line_and_exit_2(run_main, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_main("sample", "--task", "mcpc-iris", "--out", str(blocker / "out"))
    assert result.returncode == 2
    assert f"--out {blocker / 'out'}: cannot create that folder" in result.stderr
    assert "Traceback" not in result.stderr and blocker.read_text() == "not a folder"
