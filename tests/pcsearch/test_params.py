"""Hyperparameter resolution and parsing: defaults, paper values, clear errors."""

from __future__ import annotations

import pytest

from pcsearch.errors import InvalidValueError, UnknownNameError, UnsupportedError
from pcsearch.params import resolve


def test_paper_best_values_are_the_defaults_for_mnist():
    p = resolve("mlp-mnist", "ipc")
    assert (p["T"], p["activation"], p["state_lr"]) == (8, "leaky_relu", 0.85)
    assert (p["hidden_layers"], p["hidden_width"], p["batch_size"], p["epochs"]) == (
        3,
        128,
        128,
        25,
    )


def test_strings_from_the_command_line_are_parsed():
    p = resolve("mlp-digits", "pc-se", {"T": "12", "state_lr": "0.2", "activation": "tanh"})
    assert (p["T"], p["state_lr"], p["activation"]) == (12, 0.2, "tanh")


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"T": "1.5"}, InvalidValueError, ["T='1.5'", "int"]),
        ({"state_lr": "fast"}, InvalidValueError, ["state_lr='fast'", "float"]),
        ({"state_momentum": 2}, InvalidValueError, ["state_momentum=2.0", "[0.0, 1.0]"]),
        ({"activation": "sigmoid"}, InvalidValueError, ["sigmoid", "gelu", "hard_tanh"]),
        ({"lr": 1}, UnknownNameError, ["'lr'", "state_lr", "weight_lr"]),
        ({"beta": 0.5}, UnknownNameError, ["'beta'", "pc-se", "pn"]),
    ],
)
def test_bad_values_name_the_field_the_value_and_the_fix(overrides, error, words):
    with pytest.raises(error) as info:
        resolve("mlp-digits", "pc-se", overrides)
    for word in words:
        assert word in str(info.value)


def test_unknown_task_and_algorithm_list_the_choices():
    with pytest.raises(UnknownNameError, match="mlp-digits"):
        resolve("mlp-cifar", "pc-se")
    with pytest.raises(UnknownNameError, match="bp-ce"):
        resolve("mlp-digits", "pc-xx")
    with pytest.raises(UnsupportedError, match="does not apply to task 'mlp-digits'"):
        resolve("mlp-digits", "mcpc")  # mcpc samples; it cannot train a classifier


def test_catalogue_and_params_import_no_jax():
    import subprocess
    import sys

    code = "import sys, pcsearch.params, pcsearch.catalogue; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
