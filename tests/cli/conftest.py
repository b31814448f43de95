"""Fixtures of the CLI tests: the ``pcsearch`` command run as a real process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_cli(pcsearch_exe: str, tmp_path: Path) -> RunCli:
    """``run_cli("train", "--task", ...)``: run pcsearch in tmp_path, capture text output."""

    def run(*args: str, timeout: float = 240, cwd: Path | None = None):
        return subprocess.run(
            [pcsearch_exe, *args],
            cwd=cwd or tmp_path,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
