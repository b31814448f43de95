"""The search-throughput benchmark still runs end to end (its quick mode): real workers on
journal-file studies named after each layout."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run(mnist_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "search_throughput.py"), "--quick",
         "--data-dir", str(mnist_dir)],
        capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith(("one", "2 "))]
    assert [r.split()[0] for r in rows] == ["one", "2", "one"], result.stdout
    for row in rows:  # trials, seconds, trials per hour, ratio to one worker
        found = re.search(r"\s(\d+)\s+(\d+\.\d)\s+(\d+)\s+(\d+\.\d\d)\s", row)
        assert found and int(found[1]) >= 1 and int(found[3]) > 0, row
