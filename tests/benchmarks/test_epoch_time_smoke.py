"""The epoch-time benchmark: its summaries, the peer's data matching pcsearch's, and a smoke run.

The peer script runs under pcx's own interpreter, so here only its NumPy/scikit-learn
loaders are imported; the smoke run uses a missing peer on purpose (pcsearch-only path).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from pcsearch.data import load_dataset

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


epoch_time = _load("epoch_time")
pcx_peer = _load("pcx_peer")


def _measured(seconds: list[float], acc: float, rss: float = 100.0):
    return epoch_time.Measured(seconds, [acc] * len(seconds), rss, 1.0, {})


def test_summary_separates_the_compiling_epoch_from_the_steady_median() -> None:
    row = epoch_time.summarise(
        "pcsearch PC", [_measured([5.0, 1.0, 3.0], 0.9), _measured([7.0, 2.0, 4.0], 0.8, 300.0)]
    )
    assert row.first == 6.0
    assert row.steady == 2.5  # median of 1, 3, 2, 4
    assert (row.steady_low, row.steady_high) == (1.0, 4.0)
    assert row.peak_mb == 300.0
    assert row.accuracy == pytest.approx(0.85)


def test_one_epoch_has_no_steady_state_and_ratios_say_so() -> None:
    setting = epoch_time.make_settings(1, 1)["a"]
    pc = epoch_time.summarise("pcsearch PC", [_measured([5.0], 0.9)])
    assert pc.steady is None
    rows = {"pcsearch PC": pc, "pcsearch BP": epoch_time.summarise("b", [_measured([1.0], 0.9)])}
    text = epoch_time.format_ratios(setting, rows)
    assert "peer unavailable" in text
    assert "PC/BP" in text and "n/a" in text
    assert "pcsearch PC" in epoch_time.format_table(list(rows.values()))


def test_targets_are_checked_in_the_right_direction() -> None:
    setting = epoch_time.make_settings(3, 5)["a"]
    rows = {
        "pcsearch PC": epoch_time.summarise("pcsearch PC", [_measured([9.0, 2.0, 2.0], 0.95)]),
        "pcsearch BP": epoch_time.summarise("pcsearch BP", [_measured([4.0, 1.0, 1.0], 0.95)]),
        "pcx PC": epoch_time.summarise("pcx PC", [_measured([9.0, 3.0, 3.0], 0.95)]),
    }
    text = epoch_time.format_ratios(setting, rows)
    assert "1.50x  (target >= 1.3: met)" in text
    assert "2.00  (target <= 4: met)" in text


def test_setting_c_is_vgg5_pc_ce_and_the_peer_gets_the_same_network() -> None:
    setting = epoch_time.make_settings(2, 2, 3, 16, 2)["c"]
    assert (setting.task, setting.model, setting.algorithms) == (
        "vgg5-cifar10",
        "vgg5",
        ("pc-ce", "bp-ce"),
    )
    assert setting.synthetic and setting.max_batches == 2
    overrides = setting.overrides("pc-ce")
    assert overrides == {"batch_size": 16, "epochs": 3}  # T and the rest: the paper's values
    from pcsearch.params import resolve

    params = resolve(setting.task, "pc-ce", overrides)
    args = epoch_time.peer_args(setting, params, ["--npz", "x.npz"])
    flag = lambda name: args[args.index(name) + 1]
    assert flag("--model") == "vgg5" and flag("--energy") == "ce" and "--augment" in args
    assert flag("--T") == str(params["T"]) == "8"
    assert flag("--batch-size") == "16" and flag("--activation") == params["activation"]
    assert "--hidden-width" not in args


def test_mlp_settings_keep_their_peer_flags() -> None:
    setting = epoch_time.make_settings(3, 5)["a"]
    from pcsearch.params import resolve

    params = resolve(setting.task, "pc-se", setting.overrides("pc-se"))
    args = epoch_time.peer_args(setting, params, ["--data-dir", "d"])
    assert args[:6] == ["--data-dir", "d", "--hidden-width", "128", "--hidden-layers", "3"]
    assert "--model" not in args and "--augment" not in args
    assert args[args.index("--energy") + 1] == "se" and args[args.index("--T") + 1] == "8"


def test_paper_figures_are_printed_per_batch_beside_ours() -> None:
    setting = epoch_time.make_settings(2, 2, 3, 16, 2)["c"]
    rows = {
        "pcsearch PC": epoch_time.summarise("pcsearch PC", [_measured([9.0, 2.0, 2.0], 0.1)]),
        "pcsearch BP": epoch_time.summarise("pcsearch BP", [_measured([4.0, 1.0, 1.0], 0.1)]),
    }
    text = epoch_time.format_paper(setting, rows)
    assert "VGG-5 - CIFAR-100" in text and "NVIDIA A100 GPU, not this machine" in text
    assert "PC: paper 5.33 s/epoch = 13.67 ms/batch" in text
    assert "pcsearch PC here 1000.00 ms/batch at batch 16" in text  # 2 s / 2 batches
    assert "PC/BP: paper 3.31, here 2.00" in text
    assert epoch_time.format_paper(epoch_time.make_settings(2, 2)["b"], rows) == ""


@pytest.mark.parametrize("model, side", [("vgg5", 32), ("vgg7", 56)])
def test_peer_vgg_heads_read_what_pcsearchs_do(model: str, side: int) -> None:
    """The peer's VGG-5 (32 -> 16 -> 8 -> 4 -> 2) and VGG-7 (56 -> 28 -> 14 -> 12 -> 6 -> 4)
    flatten as many features as pcsearch's models of the same name."""
    from pcsearch.models import vgg

    layout = {"vgg5": vgg.VGG5, "vgg7": vgg.VGG7}[model]
    blocks = pcx_peer.VGG_BLOCKS[model]
    assert tuple(c for c, _, _ in blocks) == layout["channels"]
    assert tuple(p for _, p, _ in blocks) == layout["paddings"]
    assert tuple(pooled for _, _, pooled in blocks) == layout["pools"]
    assert pcx_peer.vgg_feature_size(model, side) == {"vgg5": 2, "vgg7": 4}[model]


def test_peer_augmentations() -> None:
    import jax
    import jax.numpy as jnp

    images = jnp.arange(2 * 3 * 8 * 8, dtype=jnp.float32).reshape(2, 3, 8, 8) + 1.0
    out = pcx_peer.make_augment()(jax.random.PRNGKey(0), images)
    assert out.shape == images.shape
    for i in range(2):  # every pixel is zero padding or a pixel of its own image
        assert set(np.unique(out[i]).tolist()) <= set(np.unique(images[i]).tolist()) | {0.0}
    crops = pcx_peer.make_augment(crop=6)(jax.random.PRNGKey(0), images)
    assert crops.shape == (2, 3, 6, 6)
    for i in range(2):  # a window of its own image, no padding
        assert set(np.unique(crops[i]).tolist()) <= set(np.unique(images[i]).tolist())


def test_peer_digits_split_is_pcsearchs() -> None:
    ours = load_dataset("digits")
    x_train, y_train, x_test, y_test = pcx_peer.load_digits_split()
    np.testing.assert_array_equal(x_train, ours.x_train)
    np.testing.assert_array_equal(y_train, ours.y_train)
    np.testing.assert_array_equal(x_test, ours.x_test)
    np.testing.assert_array_equal(y_test, ours.y_test)


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="no MNIST in ../shared/data")
def test_peer_mnist_loader_matches_pcsearch() -> None:
    ours = load_dataset("mnist", SHARED_DATA)
    x_train, y_train, x_test, y_test = pcx_peer.load_mnist(SHARED_DATA)
    np.testing.assert_allclose(x_test, ours.x_test, atol=1e-6)
    np.testing.assert_array_equal(y_test, ours.y_test)
    assert x_train.shape == ours.x_train.shape
    np.testing.assert_array_equal(y_train, ours.y_train)


@pytest.mark.slow
def test_quick_run_without_a_peer(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "epoch_time.py"),
            "--quick",
            "--settings",
            "b,reuse",
            "--peer-python",
            str(tmp_path / "missing" / "python"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "peer unavailable:" in out
    assert "pcsearch PC " in out and "pcsearch BP " in out
    assert "process 1, run 2 (in-process)" in out
    assert "process 2, run 3 (disk cache)" in out
    assert "pcsearch PC/BP, steady epoch" in out


def test_batched_members_train_the_same_first_trial_as_one_run() -> None:
    """``--members-c K``: the worker trains K trials together (train_batched); its first
    member is the very trial a single run trains (same seed), so its scores are equal."""
    from benchmarks.epoch_time_worker import worker

    setting = epoch_time.make_settings(2, 2, 2, 2, 1)["e"]
    spec = {
        "task": setting.task,
        "algorithm": setting.pc_algorithm,
        "runs": [setting.overrides(setting.pc_algorithm)],
        "data_dir": str(REPO),
        "seed": 0,
        "synthetic": True,
        "max_batches": 1,
    }
    one, batched = worker(spec), worker(spec | {"members": 2})
    assert (one["members"], batched["members"]) == (1, 2)
    np.testing.assert_allclose(
        batched["runs"][0]["accuracy"], one["runs"][0]["accuracy"], rtol=1e-5
    )
