"""Which data each end of a network is clamped to while it trains: a value, not a mode.

A discriminative network has its input at the bottom (h_0 = x) and the label at the top; a
generative one leaves h_0 free (the latent) and clamps the data at the top; conditional
generation clamps a label at the bottom; a BP autoencoder maps the data to itself. The
energies and the algorithms read only the clamps this returns.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax

End = Literal["input", "label", "free"]


class Clamping(eqx.Module):
    bottom: End = eqx.field(static=True, default="input")
    top: Literal["input", "label"] = eqx.field(static=True, default="label")

    def clamps(self, x: jax.Array, y: jax.Array) -> tuple[jax.Array | None, jax.Array]:
        """(h_0 or None when free, the target of h_L) for a batch of inputs and labels."""
        pick = {"input": x, "label": y, "free": None}
        return pick[self.bottom], pick[self.top]

    @property
    def generative(self) -> bool:
        return self.top == "input"


DISCRIMINATIVE = Clamping("input", "label")
GENERATIVE = Clamping("free", "input")
CONDITIONAL = Clamping("label", "input")
AUTOENCODER = Clamping("input", "input")
"""Backprop's generative baseline: an encoder-decoder trained to map the data to itself."""
