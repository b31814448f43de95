"""pcsearch.analysis stays light: no matplotlib until a figure is drawn, no service stack."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["matplotlib", "optuna", "sqlalchemy", "fastapi", "jax"]


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_heavy_module():
    assert _loaded_after("import pcsearch.analysis") == []


def test_matplotlib_comes_only_with_a_figure(tmp_path):
    draw = (
        "from pcsearch.analysis import plot_metric_against\n"
        f"plot_metric_against({str(tmp_path / 'p.png')!r}, [(0.1, 1.0)], 'x', 'y', 't')"
    )
    assert _loaded_after(draw) == ["matplotlib"]
