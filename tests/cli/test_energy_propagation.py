"""``pcsearch energy-propagation``: the Section 5 analysis writes its plots, and the energy
reaching the first layer grows with the state learning rate, as the paper reports. The
command runs in this process (``run_main``): what it writes and prints is the point."""

from __future__ import annotations

import csv

import matplotlib.image

from tests.cli.test_search_cli import explain


def test_imbalance_grows_with_the_state_learning_rate(run_main, tmp_path):
    result = run_main(
        "energy-propagation", "--out", "ep", "--task", "mlp-two-moons",
        "--state-lrs", "0.003,0.3", "--seeds", "2", "--epochs", "2",
    )  # fmt: skip
    assert result.returncode == 0, explain(result)
    out = tmp_path / "ep"
    for name in (
        "energy-imbalance.png", "mlp-two-moons-accuracy-vs-state-lr.png",
        "mlp-two-moons-energy-per-step.png",
    ):  # fmt: skip
        assert (out / name).read_bytes().startswith(b"\x89PNG")
        assert min(matplotlib.image.imread(out / name).shape[:2]) > 200
        assert f"]({name})" in (out / "index.md").read_text()
    with open(out / "energy-propagation.csv") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[4:] == ["best_value", "imbalance", "energy_layer_1", "energy_layer_2",
                          "energy_output"]  # fmt: skip
    assert len(rows) == 4
    ratio = {(float(r[1]), int(r[2])): float(r[5]) for r in rows}
    for seed in (0, 1):
        assert ratio[(0.3, seed)] > 100 * ratio[(0.003, seed)], ratio


def test_a_bad_state_lr_list_is_one_line_and_exit_2(run_main):
    result = run_main("energy-propagation", "--out", "ep", "--state-lrs", "0.1,abc")
    assert result.returncode == 2
    assert "--state-lrs '0.1,abc' must be positive numbers" in result.stderr
    assert "Traceback" not in result.stderr
