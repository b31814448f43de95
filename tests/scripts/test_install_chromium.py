"""scripts/install-chromium.sh, run for real with a stand-in apt-get on a PATH of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-chromium.sh"

FAKE_APT = """#!/bin/sh
PATH=/usr/bin:/bin
# $MODE: "lists-missing" fails an install until an update ran; "broken" always fails.
echo "$*" >> "$LOG"
case "$MODE:$*" in
  broken:*) exit 100 ;;
  *update*) touch "$BIN/.updated"; exit 0 ;;
  *install*chromium*)
    if [ "$MODE" = lists-missing ] && [ ! -f "$BIN/.updated" ]; then exit 100; fi
    printf '#!/bin/sh\\n' > "$BIN/chromium"; chmod +x "$BIN/chromium" ;;
esac
"""


def run(
    tmp_path: Path, mode: str, *, apt: bool = True, chromium: bool = False
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The script on a PATH holding only what it needs; (result, apt-get calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id", "env"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    if apt:
        (bin_dir / "apt-get").write_text(FAKE_APT)
        (bin_dir / "apt-get").chmod(0o755)
    if chromium:
        (bin_dir / "chromium").write_text("#!/bin/sh\n")
        (bin_dir / "chromium").chmod(0o755)
    log = tmp_path / "apt.log"
    log.touch()
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(SCRIPT)],
        env={"PATH": str(bin_dir), "MODE": mode, "LOG": str(log), "BIN": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = [
        " ".join(w for w in line.split() if not w.startswith("-"))
        for line in log.read_text().splitlines()
    ]
    return result, calls


@pytest.fixture(autouse=True)
def _as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the script's sudo path is not exercised here; CI runs as root")


def test_nothing_to_do_when_chromium_is_there(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "lists-missing", chromium=True)
    assert result.returncode == 0 and calls == [] and result.stderr == ""


def test_updates_the_package_lists_when_needed(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "lists-missing")
    assert result.returncode == 0, result.stderr
    assert calls == ["install chromium", "update", "install chromium"]
    assert (tmp_path / "bin" / "chromium").exists() and result.stderr == ""


@pytest.mark.parametrize("apt", [True, False], ids=["apt-fails", "no-apt"])
def test_a_failed_install_warns_and_never_fails_the_caller(tmp_path: Path, apt: bool) -> None:
    result, _ = run(tmp_path, "broken", apt=apt)
    assert result.returncode == 0
    assert "chromium could not be installed" in result.stderr
    assert "CI=true" in result.stderr


def test_the_test_command_installs_it_before_running_tests() -> None:
    lines = (REPO / "scripts" / "test.sh").read_text().splitlines()
    at = lines.index("bash scripts/install-chromium.sh")
    assert at < next(n for n, line in enumerate(lines) if "pytest" in line and "exec" in line)
