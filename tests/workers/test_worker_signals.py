"""SIGTERM or SIGINT stop a worker within seconds, even mid-epoch or mid-compilation: its
trial ends FAIL as "worker stopped" and is queued again with the same parameters.

Real training (digits, many epochs) on a journal file and on Postgres; the signal lands
while JAX runs a compiled epoch or compiles one, where Python itself would not notice it.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tests.workers.fleet import fleet, make_study, trials_of, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
EXIT_WITHIN = 10.0


def compiling(url: str, name: str):
    """A trial claimed but with no epoch reported yet: its worker is compiling."""
    for t in trials_of(url, name):
        if t.state == TrialState.RUNNING and "epoch_values" not in t.user_attrs:
            return t
    return None


def mid_epoch(url: str, name: str):
    for t in trials_of(url, name):
        if t.state == TrialState.RUNNING and len(t.user_attrs.get("epoch_values", [])) >= 2:
            return t
    return None


def stop_and_check(url: str, name: str, f, moment, signum: signal.Signals) -> None:
    worker = f.start("--study", name, "--until-done")
    trial = wait_until(lambda: moment(url, name), 120, "the moment to signal")
    sent = time.monotonic()
    worker.send_signal(signum)
    code = worker.wait(timeout=30)
    took = time.monotonic() - sent
    output = f.output()
    assert code == 0, output
    assert took < EXIT_WITHIN, f"exit took {took:.1f} s\n{output}"
    assert f"worker stopped by {signum.name}" in output and "Traceback" not in output, output
    trials = {t.number: t for t in trials_of(url, name)}
    stopped = trials[trial.number]
    assert stopped.state == TrialState.FAIL, stopped
    assert stopped.user_attrs["reason"] == f"worker stopped by {signum.name}"
    queued = [t for t in trials.values() if t.state == TrialState.WAITING]
    assert [t.user_attrs["retry_of"] for t in queued] == [trial.number]
    assert queued[0].system_attrs["fixed_params"] == stopped.params
    assert not [t for t in trials.values() if t.state == TrialState.RUNNING]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_epoch(pcsearch_exe: str, tmp_path: Path, signum: signal.Signals) -> None:
    url = str(tmp_path / "s.journal")
    make_study(url, "long", n_trials=2, epochs=400, task="mlp-digits")
    with fleet(pcsearch_exe, tmp_path, url) as f:
        stop_and_check(url, "long", f, mid_epoch, signum)


@pytest.mark.postgres
def test_sigterm_mid_compilation_on_postgres(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    make_study(postgres_url, "compiling", n_trials=2, epochs=400, task="mlp-digits")
    with fleet(pcsearch_exe, tmp_path, postgres_url) as f:
        stop_and_check(postgres_url, "compiling", f, compiling, signal.SIGTERM)


def test_a_second_signal_during_cleanup_changes_nothing(pcsearch_exe: str, tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    make_study(url, "twice", n_trials=2, epochs=400, task="mlp-digits")
    with fleet(pcsearch_exe, tmp_path, url) as f:
        worker = f.start("--study", "twice", "--until-done")
        wait_until(lambda: mid_epoch(url, "twice"), 120, "a trial mid-run")
        worker.send_signal(signal.SIGTERM)
        worker.send_signal(signal.SIGINT)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, f.output()
    trials = trials_of(url, "twice")
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING], trials


WATCHDOG_SCRIPT = """
import sys, time
import jax, jax.numpy as jnp
from workers.signals import install_stop_watchdog

install_stop_watchdog(lambda name: print("on_stop", name, flush=True))
x = jnp.ones((256, 256)) / 256
loop = jax.jit(lambda x: jax.lax.fori_loop(0, 20_000, lambda i, a: jnp.tanh(a @ a), x))
long_call = loop.lower(x).compile()  # compiled ahead, not run: the one run is the call below
print("calling", flush=True)
long_call(x).block_until_ready()
print("finished the call: the signal was not handled during it", flush=True)
"""


def test_the_watchdog_acts_while_the_main_thread_is_inside_xla(tmp_path: Path) -> None:
    """The property the worker relies on, shown alone: a signal is handled while the main
    thread runs a compiled call that takes many seconds."""
    import subprocess
    import sys

    script = tmp_path / "watchdog.py"
    script.write_text(WATCHDOG_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "calling"
    time.sleep(1.0)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    took = time.monotonic() - sent
    assert process.returncode == 0, out
    assert "on_stop SIGTERM" in out and "finished the call" not in out, out
    assert took < 2.0, f"{took:.1f} s"
