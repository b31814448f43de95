"""scripts/setup.sh: which install it runs, and that it stays a no-op when nothing changed.

The script runs for real against a stand-in ``.venv/bin/python`` that records its calls;
the actual ``pip install -e '.[dev]'`` is what every test run's own setup does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../../calls.log"
"""
UPGRADE = "-m pip install -q --upgrade pip"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    old = time.time() - 3600
    os.utime(tmp_path / "pyproject.toml", (old, old))
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return tmp_path


def setup(checkout: Path, extras: str | None = None) -> list[str]:
    """Run setup.sh; the pip calls it made this time."""
    log = checkout / "calls.log"
    log.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "PCSEARCH_EXTRAS"}
    if extras is not None:
        env["PCSEARCH_EXTRAS"] = extras
    result = subprocess.run(
        ["bash", "scripts/setup.sh"],
        cwd=checkout,
        env=env | {"PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_installs_dev_then_does_nothing(checkout: Path) -> None:
    assert setup(checkout) == [UPGRADE, "-m pip install -q -e .[dev]"]
    assert setup(checkout) == []
    assert setup(checkout, extras="") == [], "an empty PCSEARCH_EXTRAS is no extra"


def test_extras_are_added_and_remembered(checkout: Path) -> None:
    assert setup(checkout, extras="cuda") == [UPGRADE, "-m pip install -q -e .[dev,cuda]"]
    assert setup(checkout, extras="cuda") == []
    assert setup(checkout) == [UPGRADE, "-m pip install -q -e .[dev]"], "back to plain dev"


def test_a_stamp_from_before_extras_means_dev(checkout: Path) -> None:
    """Checkouts set up by the earlier script (an empty stamp) are not reinstalled."""
    (checkout / ".venv" / ".pcsearch-installed").touch()
    assert setup(checkout) == []


def test_a_newer_pyproject_reinstalls(checkout: Path) -> None:
    setup(checkout)
    later = time.time() + 5
    os.utime(checkout / "pyproject.toml", (later, later))
    assert setup(checkout) == [UPGRADE, "-m pip install -q -e .[dev]"]
