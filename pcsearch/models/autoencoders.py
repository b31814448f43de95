"""The paper's autoencoder models (Section 4.2, Appendix C.1), one builder per model name.

PC and iPC train only a decoder: its bottom state h_0 is the free latent and the data is
clamped at its top. BP trains an encoder-decoder that maps the data to itself, the decoder
the same as PC's. Which one a run gets follows from the clamping: data at the bottom
(BP's ``AUTOENCODER``) means an encoder in front.

- ``ae-linear`` (Table 9): an MLP decoder latent_dim -> width -> width -> pixels
  (hidden_layers = 2, width 128, latent 64 in the paper's code), hidden activations, linear
  output. BP's network mirrors it with an encoder in front (pixels -> width -> width ->
  latent_dim -> width -> width -> pixels) and has no activation at all: the paper's code
  (liukidar/pcx v0.6.1, examples/s4_2_generative_mode/autoencoders/linear/bp_decoder.py)
  chains its linear layers without calling its ``act_fn``, so ``activation`` does not reach
  it.
- ``ae-deconv`` (Table 8): see ``pcsearch.models.deconv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax

from pcsearch.models.activations import activation
from pcsearch.models.base import PCModel
from pcsearch.models.deconv import conv_autoencoder, deconv_decoder
from pcsearch.models.mlp import MLP

if TYPE_CHECKING:
    from pcsearch.algorithms.clamping import Clamping


def has_encoder(clamping: Clamping | None) -> bool:
    """Whether the data enters at the bottom too (BP's autoencoder), not only at the top."""
    return clamping is not None and clamping.bottom == "input"


def build_linear_autoencoder(
    params: Mapping[str, Any],
    input_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
    clamping: Clamping | None = None,
) -> MLP:
    """``ae-linear``: a decoder (h_0 free), or the linear encoder-decoder when ``clamping``
    puts data at the bottom (BP). ``num_classes`` is not read: the data is the target."""
    pixels = 1
    for n in input_shape:
        pixels *= int(n)
    hidden = [int(params["hidden_width"])] * int(params["hidden_layers"])
    decoder = [int(params["latent_dim"]), *hidden, pixels]
    if has_encoder(clamping):
        return MLP([pixels, *hidden, *decoder], identity, key=key)
    return MLP(decoder, activation(params["activation"]), key=key)


def identity(x: jax.Array) -> jax.Array:
    """No activation: the BP linear autoencoder's (a named function, so that two builds
    of the model compare equal and share a compiled program)."""
    return x


def build_deconv_autoencoder(
    params: Mapping[str, Any],
    input_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
    clamping: Clamping | None = None,
) -> PCModel:
    """``ae-deconv``: the deconv decoder, or the conv encoder-decoder for BP (as above)."""
    act = activation(params["activation"])
    build = conv_autoencoder if has_encoder(clamping) else deconv_decoder
    return build(input_shape, int(params["kernel_size"]), act, key=key)
