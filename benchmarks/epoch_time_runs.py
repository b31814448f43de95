"""The parent side of ``epoch_time.py``: each measured run in its own subprocess.

A child is ``epoch_time.py --worker`` (pcsearch) or ``pcx_peer.py`` (the peer); either prints
one ``RESULT {json}`` line, and the parent reads that and its wall time. Nothing compiled is
shared: each child gets the parent's environment minus any JAX cache, plus its own cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.epoch_time_settings import Setting

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "epoch_time.py"
"""The script a pcsearch child runs, with ``--worker``."""
RESULT_PREFIX = "RESULT "


@dataclass
class Measured:
    """What one subprocess reported, plus its wall time as the parent saw it."""

    epoch_seconds: list[float]
    accuracy: list[float | None]
    peak_rss_mb: float
    process_seconds: float
    info: dict[str, Any]


class RunFailed(RuntimeError):
    """A child failed or timed out: its runner is reported as failed, the others go on."""


def child_env(cache_dir: Path | None, with_repo: bool = False) -> dict[str, str]:
    """The parent's environment, minus anything that would share compiled programs.

    ``with_repo`` puts this checkout on PYTHONPATH, for pcsearch under another interpreter.
    """
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    if cache_dir is not None:
        env["PCSEARCH_CACHE_DIR"] = str(cache_dir)
    if with_repo:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_child(command: list[str], env: dict[str, str], timeout: float) -> tuple[dict, float]:
    """Run a child, return its ``RESULT`` record and wall seconds; raise with its stderr tail."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as err:
        raise RunFailed(f"timed out after {timeout:.0f} s: {' '.join(command[:3])} ...") from err
    seconds = time.perf_counter() - start
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise RunFailed(f"exit code {done.returncode}: {' '.join(command[:3])} ...\n{tail}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :]), seconds


def run_pcsearch(
    task: str,
    algorithm: str,
    runs: list[dict[str, Any]],
    data_dir: Path,
    cache_dir: Path,
    seed: int,
    timeout: float,
    python: Path | None = None,
    bundled_npz: Path | None = None,
    synthetic: bool = False,
    max_batches: int | None = None,
    epoch_loop: str = "auto",
    members: int = 1,
) -> tuple[dict, float]:
    """pcsearch runs in a child; ``python`` other than ours runs this checkout's pcsearch.
    ``members`` > 1 trains that many trials together (``train_batched``)."""
    spec = {
        "task": task,
        "algorithm": algorithm,
        "runs": runs,
        "data_dir": str(data_dir),
        "seed": seed,
        "bundled_npz": None if bundled_npz is None else str(bundled_npz),
        "synthetic": synthetic,
        "max_batches": max_batches,
        "epoch_loop": epoch_loop,
        "members": members,
    }
    interpreter = sys.executable if python is None else str(python)
    command = [interpreter, str(SCRIPT), "--worker", json.dumps(spec)]
    return run_child(command, child_env(cache_dir, with_repo=python is not None), timeout)


def measure_pcsearch(
    setting: Setting,
    algorithm: str,
    data_dir: Path,
    cache_dir: Path,
    seed: int,
    timeout: float,
    python: Path | None = None,
    bundled_npz: Path | None = None,
    epoch_loop: str = "auto",
    members: int = 1,
) -> Measured:
    record, seconds = run_pcsearch(
        setting.task,
        algorithm,
        [setting.overrides(algorithm)],
        data_dir,
        cache_dir,
        seed,
        timeout,
        python,
        bundled_npz,
        setting.synthetic,
        setting.max_batches,
        epoch_loop,
        members,
    )
    run = record["runs"][0]
    return Measured(run["epoch_seconds"], run["accuracy"], record["peak_rss_mb"], seconds, record)
