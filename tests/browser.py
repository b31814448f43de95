"""A real browser for tests: Debian's ``chromium``, headless, returning the DOM after the
page's JavaScript ran (what a person would see, not the HTML the server sent).

``scripts/test.sh`` installs chromium when it is missing (``scripts/install-chromium.sh``).
Without it the browser tests skip locally and fail under ``CI=true``, like the Postgres
rule in ``tests/conftest.py``: a CI run that silently skipped them would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in CI; the sandbox refuses root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def find_chromium() -> str:
    """The chromium executable; skips the test when there is none, fails under CI=true."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    reason = "chromium is not installed (bash scripts/install-chromium.sh installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"a browser is required under CI=true: {reason}")
    pytest.skip(reason)


def rendered_dom(url: str, *, timeout: float = 60.0, budget_ms: int = 10_000) -> str:
    """The DOM of ``url`` once scripts ran for ``budget_ms`` of virtual time.

    Virtual time lets fetches and timers run as fast as they complete, so a page that
    polls its API forever still yields its DOM in about a second or two of wall time.
    """
    exe = find_chromium()
    with tempfile.TemporaryDirectory(prefix="pcsearch-chromium-") as profile:
        command = [
            exe,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            url,
        ]
        # A session of its own: on a timeout the renderer and GPU processes go too.
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise AssertionError(f"chromium did not render {url} within {timeout:g} s") from None
    if process.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-10:])
        raise AssertionError(f"chromium exited with {process.returncode} on {url}:\n{tail}")
    return out
