"""Fixtures of the CLI tests: the ``pcsearch`` command run as a real process, or in this
process where what is tested is the command's output and exit code, not the process."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
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


def call_main(args: Sequence[str], cwd: Path, env: Mapping[str, str | None] | None = None) -> int:
    """``pcsearch_cli.main.main(args)`` in this process, in ``cwd``, with ``env`` set (a
    None removes the variable) for this call only; its exit code. The settings are read
    afresh, and the working folder, the environment, the signal handlers and the root
    logger are as before once it returns. It saves the 2-4 s of an interpreter and JAX
    starting, where the command's output and exit code are the point, not its process."""
    from pcsearch_cli.main import main
    from store.settings import settings

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    root = logging.getLogger()
    root_handlers, root_level = list(root.handlers), root.level
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        for name, value in (env or {}).items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        settings.cache_clear()
        try:
            return main(list(args))
        except SystemExit as stop:  # argparse's usage errors
            return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        finally:
            settings.cache_clear()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            root.handlers[:] = root_handlers
            root.setLevel(root_level)


def run_in_process(
    *args: str, cwd: Path, env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess:
    """:func:`call_main` with what it prints through ``sys.stdout`` and ``sys.stderr``
    (for module fixtures, which cannot have ``capfd``)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = call_main(args, cwd, env)
    return subprocess.CompletedProcess(["pcsearch", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_main(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> RunCli:
    """``run_main("train", "--task", ..., env={"PCSEARCH_X": "1", "PCSEARCH_Y": None})``:
    :func:`call_main` in tmp_path (or ``cwd``); its exit code and everything written to
    file descriptors 1 and 2 meanwhile, as ``run_cli`` returns them."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float | None = None,  # accepted for run_cli's callers; nothing to limit
    ) -> subprocess.CompletedProcess:
        capfd.readouterr()  # what the test printed before is not the command's
        code = call_main(args, cwd or tmp_path, env)
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["pcsearch", *args], code, out, err)

    return run
