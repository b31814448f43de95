"""Energy-based OOD detection (Appendix F): the AUROC statistic, the code's classifier task,
the OOD sets found on disk or skipped, and a trained classifier scored against each set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pcsearch.catalogue.ood import CLASSIFIER, OOD_SETS
from pcsearch.data import datasets as ds
from pcsearch.params import resolve
from pcsearch.training.ood import auroc, load_ood_sets
from pcsearch_cli.catalogue_cmds import task_description
from pcsearch_cli.main import main
from tests.data.conftest import refused_url as refused_url  # noqa: F401 - a fixture
from tests.data.test_datasets import write_tiny_set
from tests.data.test_ood_sets import offline, write_kmnist, write_notmnist


def brute_force_auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    wins = [(o > i) + 0.5 * (o == i) for o in outside for i in inside]
    return float(np.mean(wins))


def test_auroc_is_the_probability_that_ood_scores_higher() -> None:
    rng = np.random.default_rng(0)
    inside = rng.normal(size=40).round(1)  # rounding makes ties
    outside = rng.normal(0.7, size=30).round(1)
    assert auroc(inside, outside) == pytest.approx(brute_force_auroc(inside, outside))
    assert auroc(inside, inside + 100) == 1.0
    assert auroc(inside + 100, inside) == 0.0


def test_the_ood_task_is_the_codes_network_and_training() -> None:
    """OOD_energy.py: Model(784, 512, 10, nm_layers=3, gelu), T=10, optax.sgd(1e-2) for
    the states, optax.sgd(1e-2, momentum=0.95) for the weights, 75 epochs, batch 128."""
    described = task_description("mlp-mnist-ood", "pc-ce")
    widths = [784, 512, 512, 10]
    weights = sum(i * o + o for i, o in zip(widths[:-1], widths[1:], strict=True))
    assert described["model"]["parameters"] == weights == 669_706
    shapes = [layer["output_shape"] for layer in described["model"]["layers"]]
    assert shapes == [[w] for w in widths]
    params = resolve("mlp-mnist-ood", "pc-ce")
    assert {k: params[k] for k in CLASSIFIER} == CLASSIFIER
    assert (params["T"], params["state_lr"], params["state_momentum"]) == (10, 0.01, 0.0)
    assert (params["weight_optimizer"], params["weight_lr"], params["weight_momentum"]) == (
        "sgd", 0.01, 0.95,
    )  # fmt: skip
    assert (params["epochs"], params["batch_size"]) == (75, 128)
    assert described["state_energy"]["value"] == "sum"  # optim_h.step(..., True)
    assert described["data"]["name"] == "mnist-ood"


@pytest.fixture
def ood_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str) -> Path:
    """Tiny MNIST, Fashion-MNIST, KMNIST and notMNIST files; no EMNIST; offline."""
    for name in ("mnist", "fashionmnist"):
        write_tiny_set(tmp_path / name, n_train=6, n_test=4)
        monkeypatch.setitem(ds.MIRRORS, name, (refused_url,))
    write_kmnist(tmp_path)
    write_notmnist(tmp_path)
    offline(monkeypatch, refused_url)
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    ds.clear_cache()
    yield tmp_path
    ds.clear_cache()


def test_sets_on_disk_are_loaded_and_the_others_skipped_with_the_fix(ood_data: Path) -> None:
    found, skipped = load_ood_sets(OOD_SETS["mnist-ood"], ood_data, examples=2)
    assert list(found) == ["fashionmnist-ood", "kmnist", "notmnist"]
    assert all(x.shape == (2, 784) for x in found.values())
    np.testing.assert_array_equal(found["kmnist"], ds.load_dataset("kmnist", ood_data).x_test[:2])
    assert list(skipped) == ["emnist-letters"]
    why = skipped["emnist-letters"]
    assert str(ood_data / "emnist" / "gzip.zip") in why
    assert "pcsearch data fetch emnist-letters" in why
    assert not (ood_data / "emnist").exists()  # nothing was downloaded or created


def test_the_code_setting_scores_every_set_on_disk_and_says_which_it_skipped(
    ood_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["ood", "--data-dir", str(ood_data), "--epochs", "1", "--steps", "3",
         "--set", "hidden_width=8", "--set", "batch_size=2", "--json"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert out["run"]["task"] == "mlp-mnist-ood"
    reports = out["ood"]
    assert [r["out_of_distribution"] for r in reports] == ["fashionmnist-ood", "kmnist", "notmnist"]
    assert all(r["in_distribution"] == "mnist-ood" and r["steps"] == 3 for r in reports)
    assert {r["examples"] for r in reports} == {3}  # KMNIST's tiny test split is the smallest
    for r in reports:
        assert 0.0 <= r["auroc_energy_after"] <= 1.0
        assert r["nll_out"] == pytest.approx(3 * r["energy_after_out"], rel=1e-5)
    assert list(out["skipped"]) == ["emnist-letters"]
    assert "skipping OOD set emnist-letters" in captured.err


def test_a_pc_classifier_tells_its_digits_from_scrambled_ones(capsys) -> None:
    code = main(
        ["ood", "--task", "mlp-digits", "--algorithm", "pc-ce", "--ood", "permuted,noise",
         "--epochs", "4", "--steps", "50", "--json"]
    )  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    permuted, noise = out["ood"]
    assert out["run"]["value"] > 0.8 and out["skipped"] == {}
    assert (permuted["out_of_distribution"], noise["out_of_distribution"]) == ("permuted", "noise")
    assert permuted["examples"] > 100
    assert permuted["auroc_energy_after"] > 0.85
    assert permuted["energy_after_out"] > permuted["energy_after_in"]
    # Before inference, with forward states and the output clamped to the prediction, the
    # energy is -log max softmax: the same ranking as the softmax baseline.
    for report in (permuted, noise):
        assert report["auroc_energy_before"] == pytest.approx(report["auroc_softmax"], abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "mlp-digits", "--ood", "cifar10"], "same shape"),
        (["--task", "mlp-digits", "--ood", "shuffled"], "neither a data set"),
        (["--task", "mlp-digits"], "--ood is needed"),
        (["--task", "mlp-digits", "--ood", "noise", "--examples", "0"], "at least 1"),
    ],
)
def test_bad_ood_requests_are_refused_before_training(argv, message, capsys) -> None:
    code = main(["ood", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


def test_with_no_ood_set_on_disk_nothing_is_trained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["ood", "--data-dir", str(tmp_path), "--ood", "kmnist,notmnist"])
    err = capsys.readouterr().err
    assert code == 2 and "none of the OOD sets is in the data folder" in err, err
    assert "skipping OOD set kmnist" in err and "skipping OOD set notmnist" in err
