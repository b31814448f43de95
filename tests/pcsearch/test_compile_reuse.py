"""Runs that differ only in traced hyperparameters share one compiled program."""

from __future__ import annotations

import jax

from pcsearch.training import train

compiles: list[float] = []


def _listener(event: str, duration: float, **_: object) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        compiles.append(duration)


jax.monitoring.register_event_duration_secs_listener(_listener)


def test_second_run_with_other_traced_values_compiles_nothing():
    base = {"epochs": 2, "T": 6, "hidden_width": 24}
    train("mlp-two-circles", "pc-se", base)
    first = len(compiles)
    assert first > 0, "the listener must see the first run compile"
    other = {"state_lr": 0.05, "state_momentum": 0.2, "weight_lr": 3e-3, "weight_decay": 1e-3}
    train("mlp-two-circles", "pc-se", base | other, seed=3)
    assert len(compiles) == first


def test_a_structural_change_compiles_again():
    train("mlp-two-circles", "pc-se", {"epochs": 1, "T": 3, "hidden_width": 20})
    before = len(compiles)
    train("mlp-two-circles", "pc-se", {"epochs": 1, "T": 4, "hidden_width": 20})
    assert len(compiles) > before
