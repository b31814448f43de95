"""The search-quality benchmark still runs end to end at its smallest size: real local
workers (the ``pcsearch search --jobs`` machinery) on journal-file studies, trials told
without training so that the smoke test takes seconds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_quick_dry_run() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "search_quality.py"), "--quick", "--dry-run",
         "--seeds", "1,2"],
        capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "cores" in out.splitlines()[0], out
    runs = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d\.\d{4})\s+(\d+\.\d)$", out, re.M)
    assert sorted((int(j), int(s)) for j, s, *_ in runs) == [(1, 1), (1, 2), (2, 1), (2, 2)], out
    assert all(int(trials) == 3 and int(twins) == 0 for _, _, trials, twins, _, _ in runs), out
    ratio = re.search(r"wall time, 2 workers / 1 worker: (\d+\.\d\d) \(speed-up", out)
    assert ratio and float(ratio[1]) > 0, out
