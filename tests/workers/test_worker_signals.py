"""The worker's signal handling: SIGTERM/SIGINT become Shutdown, except while claiming
trials, where they are held until the claim is complete (so no asked trial is lost)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from workers.loop import Shutdown, install_signal_handlers, shutdown_deferred


@pytest.fixture
def worker_handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    install_signal_handlers()
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_raises_shutdown(worker_handlers: None, signum: signal.Signals) -> None:
    with pytest.raises(Shutdown, match=signum.name):
        signal.raise_signal(signum)


def test_signal_while_claiming_is_held_until_the_claim_ends(worker_handlers: None) -> None:
    steps = []
    with pytest.raises(Shutdown, match="SIGTERM"), shutdown_deferred():
        steps.append("asked")
        signal.raise_signal(signal.SIGTERM)
        steps.append("marked with its worker")
    assert steps == ["asked", "marked with its worker"]
    # Held signals are not raised twice.
    with shutdown_deferred():
        steps.append("next claim")
    assert steps[-1] == "next claim"
