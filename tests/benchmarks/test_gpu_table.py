"""The GPU table script: its report from made-up rows, and a ``--tiny`` run on the CPU.

The tiny run trains the MLP setting and the batched trials (K = 1, 4, 16) in a subprocess,
as the script runs on a GPU machine; the VGG settings go through the same code with
another task, and compiling them takes minutes on two CPU cores, so they stay out of it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gpu_table = _load("gpu_table")


def test_paper_table4_is_transcribed() -> None:
    table = gpu_table.PAPER_TABLE4
    assert set(table) == {"MLP", "AlexNet", "VGG-5", "VGG-7"}
    assert (table["VGG-5"].bp, table["VGG-5"].pc, table["VGG-5"].pc_song) == (1.61, 5.33, 13.49)
    assert (table["VGG-7"].bp, table["VGG-7"].pc) == (7.59, 54.60)
    assert table["MLP"].batches == 468 and table["VGG-7"].batches == 781
    assert gpu_table.PAPER_GPU == "NVIDIA A100"


def _row(setting: str, runner: str, steady: float) -> dict:
    return {
        "setting": setting,
        "paper_row": gpu_table.PAPER_TABLE4[gpu_table.SETTINGS[setting].paper].label,
        "task": "t",
        "runner": runner,
        "algorithm": "a",
        "T": 7 if runner.endswith("PC") else None,
        "batches_measured": 10,
        "first_epoch_s": 9.0,
        "steady_epoch_s": steady,
        "ms_per_batch": 100 * steady,
        "est_full_epoch_s": 39 * steady,
        "paper_s": 5.33,
        "paper_ms_per_batch": 13.67,
        "paper_comparable": True,
        "paper_over_ours": 5.33 / (39 * steady),
    }


def test_report_shows_ratios_and_speedups() -> None:
    report = gpu_table.Report(
        {"device": "gpu:X", "devices": "cuda:0", "backend": "gpu", "jax": "0", "python": "3"}
    )
    report.rows = [_row("vgg5", "pcsearch PC", 0.3), _row("vgg5", "pcsearch BP", 0.1)]
    report.batched = [
        {
            "K": k,
            "T": 8,
            "trial_epochs": 3,
            "batch_size": 128,
            "batches_measured": 468,
            "first_epoch_s": 5.0,
            "steady_epoch_s": 0.5,
            "est_full_epoch_s": 0.5,
            "trials_per_hour": 2400.0 * k / (1 + k / 8),
        }
        for k in (1, 4)
    ]
    (ratio,) = report.ratios()
    assert abs(ratio["pc_over_bp"] - 3.0) < 1e-9
    text = report.markdown()
    assert "| VGG-5 - CIFAR-100 | 3.00 | 3.31 | 2.53 |" in text
    assert "NVIDIA A100" in text and "gpu:X" in text
    assert "| 4 | 468 |" in text and "3.00x" in text  # (4 / 1.5) / (1 / 1.125)


def test_tiny_run_prints_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "gpu_table.py"),
            "--tiny",
            "--settings",
            "mlp",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["info"]["tiny"] is True and record["info"]["device"]
    assert [r["runner"] for r in record["rows"]] == ["pcsearch PC", "pcsearch BP"]
    for row in record["rows"]:
        assert row["task"] in ("mlp-fashionmnist", "mlp-mnist")
        assert row["first_epoch_s"] > 0 and row["steady_epoch_s"] > 0
        assert row["ms_per_batch"] > 0 and row["est_full_epoch_s"] > 0
        assert row["paper_s"] in (1.94, 1.82)
        assert row["epoch_loop"] == "scan"  # auto's measured choice for an MLP on the CPU
    assert [b["K"] for b in record["batched"]] == [1, 4, 16]
    for b in record["batched"]:
        assert b["steady_epoch_s"] > 0 and b["trials_per_hour"] > 0
    table = out.with_suffix(".md").read_text()
    assert table in done.stdout
    assert "| MLP - FashionMNIST |" in table and "pcsearch PC (pc-se) [scan loop]" in table
    assert "| 16 |" in table and "1.00x" in table
    assert seconds < 120, f"the tiny run took {seconds:.0f} s"
