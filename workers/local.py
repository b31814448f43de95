"""Local worker processes for the embedded search: the same worker code, as subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def default_jobs() -> int:
    """One worker per GPU when there are GPUs, else one per CPU core."""
    gpus = gpu_count()
    return gpus if gpus else max(1, os.cpu_count() or 1)


def gpu_count() -> int:
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def worker_env(index: int, one_core: bool) -> dict[str, str]:
    """Give each worker one GPU; or, for a worker meant to own one core, one CPU thread."""
    env = dict(os.environ)
    gpus = gpu_count()
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = str(index % gpus)
    elif one_core:
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
        env.setdefault("OMP_NUM_THREADS", "1")
    return env


def core_pinning(index: int) -> Callable[[], None] | None:
    """Run in the child before exec: stay on one core (no migration, no thread thrash)."""
    if gpu_count() or not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    core = cores[index % len(cores)]
    return lambda: os.sched_setaffinity(0, {core})


def start_workers(
    url: str,
    study: str,
    jobs: int,
    seed: int,
    log_dir: Path,
    batch: int | None = None,
    pin: bool | None = None,
) -> list[subprocess.Popen]:
    """``jobs`` worker processes on one study. ``pin`` (default: when there are several)
    puts each CPU worker on a core of its own, single-threaded."""
    pin = jobs > 1 if pin is None else pin
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for index in range(jobs):
        command = [
            sys.executable, "-m", "pcsearch.cli.main", "worker", "--storage", url,
            "--study", study, "--until-done", "--seed", str(seed * 1009 + index),
        ]  # fmt: skip
        if batch:
            command += ["--batch", str(batch)]
        log = open(log_dir / f"worker-{index}.log", "ab")  # noqa: SIM115 - the child owns it
        processes.append(
            subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=worker_env(index, one_core=pin),
                preexec_fn=core_pinning(index) if pin else None,
            )
        )
        log.close()
    return processes
