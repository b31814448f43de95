"""Local worker processes: the embedded search's workers, and one worker per GPU.

Children get the storage URL in their environment (``PCSEARCH_DATABASE_URL``), never on
their command line, where every local user could read it in ``ps``. On Linux a child is
sent SIGTERM when its parent dies, so no worker outlives the command that started it. Each
child is told its index (``--child-index``): it names its liveness file, and a child
leaves watching for hangs to its parent.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from store.settings import settings
from workers import liveness

log = logging.getLogger("pcsearch.worker")
PR_SET_PDEATHSIG = 1
STOP_WAIT_SECONDS = 15.0
USAGE_ERROR = 2
LOCAL_POLL_SECONDS = 1.0
"""How often a local worker with nothing to claim looks again: the embedded search ends
when its last worker does, and a worker waiting on the others' last trials would
otherwise notice the study done up to the default 5 s late."""


def gpu_ids() -> list[str]:
    """The GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` when set, else nvidia-smi's."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    return list(_installed_gpus())


@functools.cache
def _installed_gpus() -> tuple[str, ...]:
    """nvidia-smi's GPUs, asked once per process (starting N workers asked it 2N times)."""
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(str(i) for i, ln in enumerate(out.stdout.splitlines()) if ln.startswith("GPU "))


def gpu_count() -> int:
    return len(gpu_ids())


def default_jobs() -> int:
    """One worker per GPU when there are GPUs, else one per CPU core."""
    return gpu_count() or max(1, os.cpu_count() or 1)


def worker_env(index: int, one_core: bool, url: str | None = None) -> dict[str, str]:
    """Give each worker one GPU; or, for a worker meant to own one core, one CPU thread."""
    env = dict(os.environ)
    env.pop("PCSEARCH_WORKER_LOCK", None)  # the parent's: a child would be refused it
    if url is not None:
        env["PCSEARCH_DATABASE_URL"] = url
    gpus = gpu_ids()
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    elif one_core:
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
        env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _child_setup(core: int | None) -> Callable[[], None]:
    """Run in the child before exec: die with the parent; stay on one core if asked."""

    def setup() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if core is not None:
            os.sched_setaffinity(0, {core})

    return setup


def _core(index: int, pin: bool) -> int | None:
    if not pin or gpu_count() or not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    return cores[index % len(cores)]


def spawn(command: Sequence[str], env: dict[str, str], log_path: Path | None, core: int | None):
    """One child process, logging to ``log_path`` (or inheriting our output)."""
    handle = open(log_path, "ab") if log_path else None  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(
            list(command),
            stdout=handle,
            stderr=subprocess.STDOUT if handle else None,
            env=env,
            preexec_fn=_child_setup(core),
        )
    finally:
        if handle:
            handle.close()


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pcsearch_cli.main", "worker", *args]


def start_workers(
    url: str,
    study: str,
    jobs: int,
    seed: int | None,
    log_dir: Path,
    batch: int | None = None,
    pin: bool | None = None,
) -> list[subprocess.Popen]:
    """``jobs`` worker processes on one study. ``pin`` (default: when there are several)
    puts each CPU worker on a core of its own, single-threaded. Each draws from its own
    sampler stream (see :mod:`store.samplers`); ``seed``, if given, is an extra salt."""
    pin = jobs > 1 if pin is None else pin
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for index in range(jobs):
        args = ["--study", study, "--until-done", "--poll", str(LOCAL_POLL_SECONDS)]
        args += ["--child-index", str(index)]
        if seed is not None:
            args += ["--seed", str(seed)]
        if batch:
            args += ["--batch", str(batch)]
        processes.append(
            spawn(
                worker_command(*args),
                worker_env(index, one_core=pin, url=url),
                log_dir / f"worker-{index}.log",
                _core(index, pin),
            )
        )
    return processes


def stop_all(processes: Sequence[subprocess.Popen], wait: float = STOP_WAIT_SECONDS) -> None:
    """SIGTERM every live child, wait for them (they give their trials back), then kill."""
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    give_up = time.monotonic() + wait
    for p in processes:
        try:
            p.wait(timeout=max(0.1, give_up - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def supervise(commands: Sequence[tuple[list[str], dict[str, str]]], restart_pause: float) -> int:
    """Run one child per command until asked to stop; a child that dies (an OOM kill, a
    crash) is started again after ``restart_pause`` seconds. SIGTERM/SIGINT stop them all.

    Child ``i`` must be started with ``--child-index i``: its liveness file (see
    :mod:`workers.liveness`) is watched, and a child that made no progress for
    ``PCSEARCH_WORKER_STALE_SECONDS`` (hung in XLA or a storage call, its lease heartbeat
    still beating) is stopped like any (SIGTERM, SIGKILL after ``STOP_WAIT_SECONDS``) and
    started again like a crashed one; the trials it held are given back on the way out,
    or reaped as a dead owner's.
    """
    stopping: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stale = settings().worker_stale_seconds
    children = [spawn(cmd, env, None, None) for cmd, env in commands]
    spawned = [time.monotonic()] * len(children)
    restart_at: dict[int, float] = {}
    while not stopping:
        for i, child in enumerate(children):
            code = child.poll()
            if code is None:
                idle = _idle(child, i, spawned[i])
                if idle > stale:
                    log.warning(
                        "worker %d (pid %d) made no progress for %.0f s "
                        "(PCSEARCH_WORKER_STALE_SECONDS=%g): it hangs; stopping it, "
                        "restarting in %.0f s",
                        i,
                        child.pid,
                        idle,
                        stale,
                        restart_pause,
                    )
                    stop_all([child])
                    liveness.forget(child.pid, i)
                    restart_at[i] = time.monotonic() + restart_pause
                continue
            if code == USAGE_ERROR:  # bad input: restarting would only repeat it
                stop_all(children)
                return USAGE_ERROR
            if i not in restart_at:
                log.warning(
                    "worker %d exited with %s; restarting in %.0f s", i, code, restart_pause
                )
                liveness.forget(child.pid, i)
                restart_at[i] = time.monotonic() + restart_pause
            elif time.monotonic() >= restart_at[i]:  # not pop() here: it is not yet time
                del restart_at[i]
                children[i] = spawn(*commands[i], None, None)
                spawned[i] = time.monotonic()
        time.sleep(0.5)
    log.warning("stopping %d worker(s) on %s", len(children), stopping[0])
    stop_all(children)
    for i, child in enumerate(children):
        liveness.forget(child.pid, i)
    return 0


def _idle(child: subprocess.Popen, index: int, spawned: float) -> float:
    """Seconds since the child last made progress; since it started, while it has made no
    liveness file yet (a hang before its first step counts too)."""
    age = liveness.age(liveness.file_for(child.pid, index))
    return time.monotonic() - spawned if age is None else age
