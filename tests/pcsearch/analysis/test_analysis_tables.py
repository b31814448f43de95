"""Table-1-style markdown and the per-cell CSV."""

from __future__ import annotations

import csv
import io
import statistics

import pytest

from pcsearch.analysis.summary import ResultCell, summarise
from pcsearch.analysis.tables import format_seconds, table_csv, table_markdown


def _cell(task, algorithm, metric, values, direction="maximize", keep_best=None, **kw):
    summary = summarise(values, direction, keep_best)
    return ResultCell(task, algorithm, metric, direction, summary, **kw)


def _pm(values, scale):
    return f"{statistics.fmean(values) * scale:.2f} ± {statistics.pstdev(values) * scale:.2f}"


def _rows(text):
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_cells_columns_and_top5_rows():
    pcse = [0.9821, 0.9830, 0.9826, 0.9801, 0.9790, 0.9832, 0.9828]
    best5 = sorted(pcse, reverse=True)[:5]
    top1, top5 = [0.671, 0.674], [0.866, 0.865]
    cells = [
        _cell("mlp-mnist", "pc-se", "accuracy", pcse, keep_best=5, seconds=7200.0),
        _cell("vgg5-cifar100", "cn", "top5_accuracy", top5, seconds=60.0),
        _cell("vgg5-cifar100", "cn", "accuracy", top1),
        _cell("mlp-mnist", "mcpc", "accuracy", [0.5]),
    ]
    text = table_markdown(cells)
    header, mnist, cifar, cifar5 = _rows(text)
    assert header.split(" | ")[1:] == [
        "PC-CE",
        "PC-SE",
        "PN",
        "NN",
        "CN",
        "iPC",
        "BP-CE",
        "BP-SE",
        "MCPC |",
    ]
    assert "Accuracy (%)" in header
    mnist_cells = [c.strip() for c in mnist.strip("|").split("|")]
    assert mnist_cells[0] == "mlp-mnist"
    assert mnist_cells[2] == _pm(best5, 100)  # PC-SE column
    assert mnist_cells[1] == "" and mnist_cells[6] == ""  # nothing measured
    assert mnist_cells[9] == _pm([0.5], 100)  # MCPC after the paper's algorithms
    assert cifar.startswith("| vgg5-cifar100 |") and _pm(top1, 100) in cifar
    assert cifar5.startswith("| vgg5-cifar100 (top-5) |") and _pm(top5, 100) in cifar5
    assert "the best 5 of 7 seeds" in text
    assert "all 2 seeds" in text
    assert "Total time: 2 h 01 min over 2 cell(s) (2 without a recorded time)" in text


def test_one_convention_is_said_once():
    cells = [
        _cell("mlp-mnist", "pc-se", "accuracy", [0.98, 0.97, 0.96], keep_best=2),
        _cell("mlp-mnist", "ipc", "accuracy", [0.98, 0.99, 0.96], keep_best=2),
    ]
    text = table_markdown(cells)
    assert "of the best 2 of 3 seeds. Total time: not recorded." in text
    assert "except" not in text


def test_mse_goes_in_its_own_table_with_the_unit_in_the_header():
    ae = [5.52e-3, 5.48e-3]
    text = table_markdown(
        [
            _cell("mlp-mnist", "pc-se", "accuracy", [0.98]),
            _cell("ae-cifar10", "ipc", "mse", ae, "minimize"),
        ]
    )
    assert "| MSE (×10^-3) | iPC |" in text  # only the measured algorithms
    assert f"| ae-cifar10 | {_pm(ae, 1e3)} |" in text
    assert "| Accuracy (%) | PC-CE | PC-SE | PN |" in text  # Table 1's columns, blanks too
    assert text.index("Accuracy (%)") < text.index("MSE (")


def _memory(corruption, width, images, values, metric="mse"):
    setting = (("corruption", corruption), ("hidden_width", width), ("images", images))
    return _cell("am-mnist", "pc-se", metric, values, "minimize", setting=setting)


def test_memory_cells_also_get_table_3s_layout():
    """Rows are the images memorised, columns the width, one block per corruption, in
    units of 1e-4 as Table 3; recall's MSE before the cues'."""
    noise = {(50, 512): [6.1e-4, 6.3e-4], (50, 1024): [5.0e-4], (100, 512): [7.0e-4]}
    cells = [_memory("noise", d, n, v) for (n, d), v in noise.items()]
    cells += [_memory("mask", 512, 50, [2e-6]), _memory("noise", 512, 50, [0.04], "cue_mse")]
    text = table_markdown(cells)
    assert "| am-mnist [corruption=noise, hidden_width=512, images=50] |" in text
    assert "| cue_mse (×10^-2) | PC-SE |" in text  # an MSE: scaled, two decimals
    assert (
        "| am-mnist (cue_mse) [corruption=noise, hidden_width=512, images=50] | 4.00 ± 0.00 |"
        in text
    )
    layout = text[text.index("Table 3") :]
    noise_block = layout[layout.index("am-mnist / pc-se, noise: MSE of the recalled") :]
    rows = _rows(noise_block)
    assert rows[0] == "| noise | 512 | 1024 |"
    assert rows[1] == f"| 50 | {_pm(noise[50, 512], 1e4)} | {_pm(noise[50, 1024], 1e4)} |"
    assert rows[2] == f"| 100 | {_pm(noise[100, 512], 1e4)} |  |"
    assert "Each cell: mean ± std of 1 seed; n = 50, d = 512: all 2 seeds." in noise_block
    assert "| 50 | 0.02 ± 0.00 |" in layout[layout.index("mask: MSE of the recalled") :]
    assert layout.index("noise: MSE of the recalled") < layout.index("mask: MSE of the recalled")
    assert layout.index("mask: MSE of the recalled") < layout.index("noise: MSE of the cues")
    assert "| 50 | 400.00 ± 0.00 |" in layout[layout.index("MSE of the cues") :]


def test_no_memory_cells_no_table_3_layout():
    assert "Table 3" not in table_markdown([_cell("mlp-mnist", "pc-se", "accuracy", [0.9])])


def test_two_results_for_one_cell_are_an_error():
    cells = [_cell("mlp-mnist", "pc-se", "accuracy", [0.9], study=s) for s in ("a", "b")]
    with pytest.raises(ValueError, match="two results for mlp-mnist / pc-se"):
        table_markdown(cells)


def test_csv_has_one_line_per_cell_at_full_precision():
    values = [0.98213, 0.98302, 0.97777]
    cells = [
        _cell("mlp-mnist", "pc-se", "accuracy", values, keep_best=2, seconds=12.5, study="s1"),
        _cell("ae-cifar10", "ipc", "mse", [5.5e-3], "minimize"),
    ]
    records = list(csv.DictReader(io.StringIO(table_csv(cells))))
    assert len(records) == 2
    first = records[0]
    best = [0.98302, 0.98213]
    assert float(first["mean"]) == statistics.fmean(best)
    assert float(first["std"]) == pytest.approx(statistics.pstdev(best), rel=1e-12)
    assert (first["n"], first["total"], first["keep_best"]) == ("2", "3", "2")
    assert (first["seconds"], first["study"], first["metric"]) == ("12.5", "s1", "accuracy")
    assert records[1]["keep_best"] == "" and records[1]["seconds"] == ""
    assert float(records[1]["mean"]) == 5.5e-3


@pytest.mark.parametrize(
    ("seconds", "text"), [(42.0, "42 s"), (725.0, "12 min 05 s"), (11220.0, "3 h 07 min")]
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
