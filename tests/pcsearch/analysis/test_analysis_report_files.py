"""write_report: every file is written, linked from index.md, and named safely."""

from __future__ import annotations

import statistics

import numpy as np

from pcsearch.analysis.compare import compare
from pcsearch.analysis.paper_numbers import load_paper_results
from pcsearch.analysis.report_files import StudyFigures, safe_name, write_report
from pcsearch.analysis.summary import ResultCell, summarise

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _study(name, **kw):
    base = dict(
        study=name,
        task="mlp-mnist",
        algorithm="pc-se",
        metric="accuracy",
        direction="maximize",
        trial_values=[(i, 0.5 + i / 100) for i in range(20)],
    )
    return StudyFigures(**(base | kw))


def test_a_full_report(tmp_path):
    values = [0.981, 0.982, 0.9835]
    cells = [
        ResultCell("mlp-mnist", "pc-se", "accuracy", "maximize", summarise(values, "maximize"))
    ]
    energies = (np.exp(-np.arange(6))[:, None] * np.array([1e-6, 1e-3, 1.0])).tolist()
    studies = [
        _study(
            "mnist/pc-se: best?",
            state_lr_points=[(10 ** -(i / 5), 0.9) for i in range(10)],
            energy_per_step=energies,
            imbalance_points=[(0.01, 1e-6), (0.1, 1e-3), (1.0, 1.0)],
        ),
        _study("bp only", algorithm="bp-se"),  # BP: no state learning rate, no energies
    ]
    out = tmp_path / "report"
    written = write_report(out, cells, studies, compare(cells, load_paper_results()))
    names = [p.name for p in written]
    assert names == [
        "table.md",
        "table.csv",
        "comparison.md",
        "comparison.csv",
        "mnist-pc-se-best-history.png",
        "mnist-pc-se-best-metric-vs-state-lr.png",
        "mnist-pc-se-best-energy-per-step.png",
        "mnist-pc-se-best-imbalance.png",
        "bp-only-history.png",
        "index.md",
    ]
    assert all(p.exists() and p.parent == out for p in written)
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_SIGNATURE
    index = (out / "index.md").read_text()
    for name in names[:-1]:
        assert f"[{name}]({name}): " in index
    table = (out / "table.md").read_text()
    mean, std = statistics.fmean(values) * 100, statistics.pstdev(values) * 100
    assert f"{mean:.2f} ± {std:.2f}" in table
    assert "98.26 ± 0.04" in (out / "comparison.md").read_text()
    assert "layout of the paper's Table 1 (accuracy" in index and "Table 3" not in index


def test_a_memory_report_says_it_has_table_3s_layout(tmp_path):
    setting = (("corruption", "mask"), ("hidden_width", 512), ("images", 50))
    summary = summarise([2e-4, 3e-4], "minimize")
    cells = [ResultCell("am-mnist", "pc-se", "mse", "minimize", summary, setting=setting)]
    write_report(tmp_path, cells, [])
    index = (tmp_path / "index.md").read_text()
    assert "Table 1 and, for associative memories, of its Table 3 (mean ± std)" in index
    assert "| 50 | 2.50 ± 0.50 |" in (tmp_path / "table.md").read_text()


def test_no_comparison_no_comparison_files(tmp_path):
    written = write_report(tmp_path, [], [])
    assert [p.name for p in written] == ["table.md", "table.csv", "index.md"]


def test_safe_names_and_collisions(tmp_path):
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("α β") == "study"
    assert safe_name("vgg5 cifar10:pc-se") == "vgg5-cifar10-pc-se"
    written = write_report(tmp_path, [], [_study("a/b"), _study("a b")])
    assert [p.name for p in written if p.suffix == ".png"] == [
        "a-b-history.png",
        "a-b-2-history.png",
    ]
