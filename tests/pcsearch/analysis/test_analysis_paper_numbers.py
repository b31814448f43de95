"""The paper's numbers as data: spot checks against the paper, and Table 1 complete."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from pcsearch.analysis.paper_numbers import PAPER_ALGORITHMS, load_paper_results, paper_notes

PAPER_TEXT = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "paper"
    / "benchmarking-predictive-coding-networks.txt"
)
TABLE1_TASKS = [
    f"{arch}-{data}"
    for arch, datasets in [
        ("mlp", ["mnist", "fashionmnist"]),
        *[(a, ["cifar10", "cifar100", "tinyimagenet"]) for a in ("vgg5", "vgg7", "vgg9")],
        ("resnet18", ["cifar10", "cifar100", "tinyimagenet"]),
    ]
    for data in datasets
]


def _find(task, algorithm, metric, source="Table 1", **setting):
    found = [
        r
        for r in load_paper_results()
        if (r.source, r.task, r.algorithm, r.metric) == (source, task, algorithm, metric)
        and dict(r.setting) == setting
    ]
    assert len(found) == 1, (task, algorithm, metric, setting, found)
    return found[0]


@pytest.mark.parametrize(
    ("task", "algorithm", "metric", "mean", "std"),
    [
        ("mlp-mnist", "ipc", "accuracy", 98.45, 0.09),
        ("mlp-fashionmnist", "pc-se", "accuracy", 89.58, 0.13),
        ("vgg5-cifar100", "cn", "top5_accuracy", 86.60, 0.18),
        ("vgg5-cifar100", "pc-se", "accuracy", 54.08, 1.66),
        ("vgg7-tinyimagenet", "cn", "accuracy", 35.59, 7.69),
        ("vgg9-tinyimagenet", "cn", "accuracy", 31.5, 0.70),
        ("resnet18-cifar10", "bp-se", "accuracy", 93.21, 0.07),
        ("resnet18-tinyimagenet", "pc-ce", "accuracy", 9.52, 0.32),
        ("resnet18-tinyimagenet", "bp-se", "top5_accuracy", 74.98, 0.36),
    ],
)
def test_table1_cells_match_the_paper(task, algorithm, metric, mean, std):
    result = _find(task, algorithm, metric)
    assert (result.mean, result.std, result.unit) == (mean, std, "percent")
    assert result.measured_mean() == pytest.approx(mean / 100)
    assert result.measured_std() == pytest.approx(std / 100)
    assert result.to_paper_unit(mean / 100) == pytest.approx(mean)


def test_every_table1_row_has_all_eight_algorithms():
    rows = defaultdict(set)
    for r in load_paper_results():
        if r.source == "Table 1":
            rows[(r.task, r.metric)].add(r.algorithm)
    expected_rows = {(t, "accuracy") for t in TABLE1_TASKS} | {
        (t, "top5_accuracy") for t in TABLE1_TASKS if not t.endswith(("mnist", "cifar10"))
    }
    assert set(rows) == expected_rows
    assert len(rows) == 22
    for key, algorithms in rows.items():
        assert algorithms == set(PAPER_ALGORITHMS), key


def test_other_tables_and_units():
    noise = _find(
        "am-tinyimagenet",
        "pc-se",
        "mse",
        "Table 3",
        corruption="noise",
        hidden_width=1024,
        images=250,
    )
    assert (noise.mean, noise.std, noise.unit) == (10.14, 0.06, "x1e-4")
    assert noise.measured_mean() == pytest.approx(10.14e-4)
    mask = _find(
        "am-tinyimagenet",
        "pc-se",
        "mse",
        "Table 3",
        corruption="mask",
        hidden_width=512,
        images=250,
    )
    assert (mask.mean, mask.std) == (39.1, 10.8)
    assert len([r for r in load_paper_results() if r.source == "Table 3"]) == 18
    skip = _find("vgg19skip-cifar10", "pc", "accuracy", "Table 11")
    assert (skip.mean, skip.std) == (73.95, None)
    assert skip.measured_std() is None
    assert _find("vgg19-cifar10", "pc", "accuracy", "Table 11").mean == 25.32
    ae = _find("ae-cifar10", "ipc", "mse", "Table 2")
    assert ae.measured_mean() == pytest.approx(5.50e-3)


def test_no_duplicate_cells_and_notes_explain_the_gaps():
    keys = [(r.task, r.algorithm, r.metric, r.setting) for r in load_paper_results()]
    assert len(keys) == len(set(keys))
    notes = " ".join(paper_notes())
    assert "Table 2" in notes and "left out" in notes


@pytest.mark.skipif(not PAPER_TEXT.exists(), reason=f"paper text not found at {PAPER_TEXT}")
def test_all_of_table1_against_the_paper_text():
    """Reparse Table 1 from the paper text and compare every one of its 176 numbers."""
    lines = PAPER_TEXT.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Table 1:"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Table 2:"))
    number = re.compile(r"(\d+(?:\.\d+)?)\s*\^\{(?:\\pm|±)\s*(\d+(?:\.\d+)?)\}")
    printed = [[(float(m), float(s)) for m, s in number.findall(line)] for line in lines[start:end]]
    printed = [row for row in printed if row]
    ours = defaultdict(dict)
    for r in load_paper_results():
        if r.source == "Table 1":
            ours[(r.task, r.metric)][r.algorithm] = (r.mean, r.std)
    in_order = [
        [ours[(t, m)][a] for a in PAPER_ALGORITHMS]
        for t in TABLE1_TASKS
        for m in ("accuracy", "top5_accuracy")
        if (t, m) in ours
    ]
    assert printed == in_order


def test_a_custom_file_with_an_unknown_unit_fails_early(tmp_path):
    path = tmp_path / "results.json"
    entry = {
        "source": "T",
        "task": "t",
        "algorithm": "a",
        "metric": "mse",
        "mean": 1,
        "std": 0,
        "unit": "furlongs",
    }
    path.write_text(json.dumps({"notes": [], "results": [entry]}))
    with pytest.raises(ValueError, match="furlongs"):
        load_paper_results(path)
