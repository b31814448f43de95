"""Energy-based OOD detection (Appendix F): the AUROC statistic and a trained classifier."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pcsearch.training.ood import auroc
from pcsearch_cli.main import main


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


def test_a_pc_classifier_tells_its_digits_from_scrambled_ones(capsys) -> None:
    code = main(
        ["ood", "--task", "mlp-digits", "--algorithm", "pc-ce", "--ood", "permuted",
         "--epochs", "4", "--steps", "50", "--json"]
    )  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    report = out["ood"]
    assert out["run"]["value"] > 0.8
    assert report["examples"] > 100
    assert report["auroc_energy_after"] > 0.85
    assert report["mean_energy_out"] > report["mean_energy_in"]
    # Before inference, with forward states and the output clamped to the prediction, the
    # energy is -log max softmax: the same ranking as the softmax baseline.
    assert report["auroc_energy_before"] == pytest.approx(report["auroc_softmax"], abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ood", "cifar10"], "same shape"),
        (["--ood", "shuffled"], "neither a data set"),
    ],
)
def test_bad_ood_requests_are_refused_before_training(argv, message, capsys) -> None:
    code = main(["ood", "--task", "mlp-digits", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
