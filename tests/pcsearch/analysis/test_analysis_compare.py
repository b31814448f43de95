"""compare: lines cells up with paper numbers by task, algorithm and metric."""

from __future__ import annotations

import csv
import io
import statistics

import pytest

from pcsearch.analysis.compare import compare, comparison_csv, comparison_markdown
from pcsearch.analysis.paper_numbers import PaperResult, load_paper_results
from pcsearch.analysis.summary import ResultCell, summarise


def _cell(task, algorithm, metric, values, direction="maximize", **kw):
    return ResultCell(task, algorithm, metric, direction, summarise(values, direction), **kw)


PAPER = [
    PaperResult("Table 1", "mlp-mnist", "ipc", "accuracy", 98.45, 0.09, "percent"),
    PaperResult("Table 1", "mlp-mnist", "pc-se", "accuracy", 98.26, 0.04, "percent"),
    PaperResult("Table 1", "vgg5-cifar100", "cn", "top5_accuracy", 86.60, 0.18, "percent"),
    PaperResult("Table 2", "ae-cifar10", "ipc", "mse", 5.50, 0.01, "x1e-3"),
    PaperResult("Table 11", "vgg19-cifar10", "pc", "accuracy", 25.32, None, "percent"),
]


def test_rows_line_up_by_task_algorithm_and_metric():
    ipc = [0.9841, 0.9850, 0.9839]
    top5 = [0.861, 0.872]
    cells = [
        _cell("vgg5-cifar100", "cn", "top5_accuracy", top5),
        _cell("mlp-mnist", "ipc", "accuracy", ipc),
        _cell("vgg5-cifar100", "cn", "accuracy", [0.6]),  # the paper fixture has no top-1 here
    ]
    rows = compare(cells, PAPER)
    assert [(r.task, r.algorithm, r.metric) for r in rows] == [
        ("vgg5-cifar100", "cn", "top5_accuracy"),
        ("mlp-mnist", "ipc", "accuracy"),
        ("vgg5-cifar100", "cn", "accuracy"),
    ]
    top5_row, ipc_row, missing = rows
    assert top5_row.paper is PAPER[2]
    assert top5_row.difference == pytest.approx(statistics.fmean(top5) * 100 - 86.60)
    assert ipc_row.paper is PAPER[0]
    assert ipc_row.unit == "percent"
    assert ipc_row.measured_mean == pytest.approx(statistics.fmean(ipc) * 100)
    assert ipc_row.measured_std == pytest.approx(statistics.pstdev(ipc) * 100)
    assert ipc_row.difference == pytest.approx(statistics.fmean(ipc) * 100 - 98.45)
    assert missing.paper is None and missing.difference is None and missing.within is None
    assert "no paper number" in missing.note


@pytest.mark.parametrize(
    ("measured", "within"),
    [(0.9875, True), (0.9815, True), (0.9876, False), (0.9814, False)],
)
def test_within_uses_percentage_points(measured, within):
    (row,) = compare([_cell("mlp-mnist", "ipc", "accuracy", [measured])], PAPER, 0.3)
    assert row.within is within


def test_mse_difference_is_in_the_papers_unit():
    (row,) = compare([_cell("ae-cifar10", "ipc", "mse", [0.0052, 0.0054], "minimize")], PAPER, 0.5)
    assert row.unit == "x1e-3"
    assert row.measured_mean == pytest.approx(5.3)
    assert row.difference == pytest.approx(5.3 - 5.50)
    assert row.within is True


def test_unnamed_pc_energy_matches_pc_se_and_pc_ce_but_not_bp():
    rows = compare(
        [
            _cell("vgg19-cifar10", "pc-ce", "accuracy", [0.26]),
            _cell("vgg19-cifar10", "bp-ce", "accuracy", [0.9]),
        ],
        PAPER,
    )
    assert rows[0].paper is PAPER[4]
    assert rows[0].difference == pytest.approx(26.0 - 25.32)
    assert "SE or CE" in rows[0].note
    assert rows[1].paper is None


def test_settings_are_matched_when_given():
    paper = load_paper_results()
    setting = (("corruption", "noise"), ("hidden_width", 512), ("images", 50))
    with_setting = _cell("am-tinyimagenet", "pc-se", "mse", [6.1e-4], "minimize", setting=setting)
    without = _cell("am-tinyimagenet", "pc-se", "mse", [6.1e-4], "minimize")
    matched, unmatched = compare([with_setting, without], paper)
    assert matched.paper is not None and matched.paper.mean == 6.06
    assert matched.difference == pytest.approx(6.1 - 6.06)
    assert unmatched.paper is None and "per setting" in unmatched.note


def test_duplicate_paper_numbers_are_an_error():
    with pytest.raises(ValueError, match="two paper results"):
        compare([], [PAPER[0], PAPER[0]])


def test_markdown_and_csv_show_the_numbers():
    values = [0.9841, 0.9850, 0.9839]
    rows = compare(
        [
            _cell("mlp-mnist", "ipc", "accuracy", values),
            _cell("mlp-digits", "pn", "accuracy", [0.9]),
        ],
        PAPER,
    )
    mean, std = statistics.fmean(values) * 100, statistics.pstdev(values) * 100
    text = comparison_markdown(rows)
    assert f"{mean:.2f} ± {std:.2f}" in text
    assert "98.45 ± 0.09" in text
    assert f"{mean - 98.45:+.2f}" in text
    assert "no paper number" in text
    records = list(csv.DictReader(io.StringIO(comparison_csv(rows))))
    assert float(records[0]["difference"]) == pytest.approx(mean - 98.45)
    assert float(records[0]["paper_mean"]) == 98.45
    assert records[1]["paper_mean"] == "" and records[1]["within"] == ""
