"""``pcsearch tasks show TASK [--json]``: a task's network layer by layer (by shape
evaluation), its data and preprocessing, and where its defaults come from; and the best
values of the paper's code that issue 15 found missing, each with its source."""

from __future__ import annotations

import json

import equinox as eqx
import jax
import pytest

from pcsearch.catalogue.paper_best import PAPER_VALUES
from pcsearch.models import build_model
from pcsearch.params import missing_paper_values, resolve
from pcsearch_cli.main import main


def show(capsys, *args: str) -> str:
    assert main(["tasks", "show", *args]) == 0
    return capsys.readouterr().out


def test_show_vgg5_cifar10_lists_its_layers_and_counts_every_weight(capsys):
    out = show(capsys, "vgg5-cifar10")
    model = build_model("vgg5", resolve("vgg5-cifar10", "pc-se"), (3, 32, 32), 10,
                        jax.random.PRNGKey(0))  # fmt: skip
    total = sum(x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_array)))
    assert f"total parameters: {total:,}" in out
    for layer, module, shape in [("h1", "convs[0]", "16x16x128"), ("h4", "convs[3]", "2x2x512"),
                                 ("h5", "head", "10")]:  # fmt: skip
        assert any(line.split()[:3] == [layer, module, shape] for line in out.splitlines())
    assert "conv states are channels-last, H x W x C" in out
    assert "clamped to the label" in out and "Table 6's values (pcsearch.data.cifar)" in out
    assert "padded by 4" in out and "state energy: sum" in out
    assert ["T", "7", "paper"] in [line.split() for line in out.splitlines()]  # its best T


def test_show_json_parses_and_its_layers_add_up(capsys):
    described = json.loads(show(capsys, "vgg19skip-cifar10", "--json"))
    model = described["model"]
    assert sum(r["parameters"] for r in model["layers"]) == model["parameters"]
    assert model["layers"][-1]["modules"] == "head + skip"  # the skip counts where it is read
    assert described["state_energy"]["value"] == "mean"
    origins = {d["name"]: d["from"] for d in described["defaults"]}
    assert origins["state_lr"] == "task" and origins["state_optimizer"] == "pcsearch"


def test_show_the_bp_autoencoder_has_no_states_and_an_encoder(capsys):
    described = json.loads(show(capsys, "ae-mnist", "--algorithm", "bp-se", "--json"))
    layers = described["model"]["layers"]
    assert [r["output_shape"] for r in layers] == [[784], [128], [128], [64], [128], [128], [784]]
    assert {r["state"] for r in layers[1:-1]} == {"none"} and described["state_energy"] is None
    assert "channels-last" not in show(capsys, "ae-mnist")  # no conv states, no note


def test_tasks_still_lists_and_show_needs_a_name(capsys):
    assert main(["tasks"]) == 0
    assert "vgg5-cifar10" in capsys.readouterr().out
    assert main(["tasks", "show"]) != 0
    assert "give a task to show" in capsys.readouterr().err


ADDED = [
    ("vgg5-cifar10", "bp-se"), ("vgg5-cifar100", "bp-ce"), ("vgg5-cifar100", "bp-se"),
    ("vgg7-cifar100", "bp-ce"), ("vgg7-cifar100", "bp-se"), ("mlp-fashionmnist", "cn"),
    ("vgg5-cifar100", "cn"), ("vgg7-cifar100", "cn"), ("vgg5-cifar10", "cn"),
    ("ae-cifar10", "bp-se"),
]  # fmt: skip
"""Issue 15, item 5: values the paper's code ships (its hps/ files and autoencoder configs)."""


@pytest.mark.parametrize(("task", "algorithm"), ADDED, ids=[f"{t}:{a}" for t, a in ADDED])
def test_the_codes_best_values_are_there_with_their_file(task: str, algorithm: str):
    entry = PAPER_VALUES[(task, algorithm)]
    assert "liukidar/pcx" in entry.source and (
        "c722834" in entry.source or "v0.6.1" in entry.source
    )
    assert entry.file and entry.file.startswith("examples/") and entry.file.endswith(".yaml")
    assert missing_paper_values(task, algorithm) is None  # weights included, no global defaults
    assert resolve(task, algorithm)["weight_lr"] == entry.values["weight_lr"]
