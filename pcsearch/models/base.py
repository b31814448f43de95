"""The model contract that predictive coding and backprop share.

A model is a stack of states h_1 .. h_L above the clamped input h_0. It says how each
state is predicted from the states below it (usually only the one right below; a skip
connection reads two), and its forward pass sets every state to its prediction. The
energies and the algorithms use only this, never a concrete model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import jax


@runtime_checkable
class PCModel(Protocol):
    @property
    def depth(self) -> int:
        """Number of predicted states; the last one is the output."""
        ...

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        """mu_{index+1}, the prediction of state index+1, from ``states`` = [h_0, ..., h_index]
        (one example, no batch axis)."""
        ...

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        """Every state in a forward pass (h_l = mu_l), output last."""
        ...

    def __call__(self, x: jax.Array) -> jax.Array:
        """The output of a forward pass: what BP trains and evaluation reads."""
        ...


def forward_states(model: PCModel, x: jax.Array) -> list[jax.Array]:
    """The forward pass through ``predict``: each state set to its prediction in turn."""
    states = [x]
    for index in range(model.depth):
        states.append(model.predict(index, states))
    return states[1:]
