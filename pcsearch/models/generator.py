"""The MLP generator of the MCPC tasks (Appendix C.2): h_0 -> hidden layers -> data.

An ``MLP`` read top-down as a generative model: hidden states are post-activations and the
data layer is linear, so MLP([bottom, width, ..., pixels]) predicts the data from h_0.
What h_0 is follows from the clamping: a free latent of ``latent_dim`` units (unconditional
generation) or the one-hot label (conditional generation: one unit per class, and
``latent_dim`` is not read).

The paper's code feeds a zero input to a first layer, which makes its first hidden state a
unit-variance Gaussian around a learned bias; here h_0 itself is that latent, with the
standard normal prior MCPC gives it (``pcsearch.algorithms.monte_carlo``). Its MNIST data
layer squashes with tanh; this one is linear, as every pcsearch decoder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax

from pcsearch.models.activations import activation
from pcsearch.models.mlp import MLP

if TYPE_CHECKING:
    from pcsearch.algorithms.clamping import Clamping


def build_generator(
    params: Mapping[str, Any],
    data_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
    clamping: Clamping | None,
) -> MLP:
    """MLP([h_0 width, hidden_width x hidden_layers, data width])."""
    pixels = 1
    for n in data_shape:
        pixels *= int(n)
    bottom = num_classes if clamping is not None and clamping.bottom == "label" else None
    if bottom is None:
        bottom = int(params["latent_dim"])
    hidden = [int(params["hidden_width"])] * int(params["hidden_layers"])
    return MLP([bottom, *hidden, pixels], activation(params["activation"]), key=key)
