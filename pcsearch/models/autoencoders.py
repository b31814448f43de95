"""The paper's autoencoder models (Section 4.2, Appendix C.1), one builder per model name.

PC and iPC train only a decoder: its bottom state h_0 is the free latent and the data is
clamped at its top. BP trains an encoder-decoder that maps the data to itself, the decoder
the same as PC's. Which one a run gets follows from the clamping: data at the bottom
(BP's ``AUTOENCODER``) means an encoder in front.

- ``ae-linear`` (Table 9): an MLP decoder latent_dim -> width -> width -> pixels
  (hidden_layers = 2, width 128, latent 64 in the paper's code), hidden activations, linear
  output; BP's encoder mirrors it (pixels -> width -> width -> latent_dim, activated).
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
    """``ae-linear``: a decoder (h_0 free), or an encoder-decoder when ``clamping`` puts data
    at the bottom. ``num_classes`` is not read: the data is the target."""
    act = activation(params["activation"])
    pixels = 1
    for n in input_shape:
        pixels *= int(n)
    hidden = [int(params["hidden_width"])] * int(params["hidden_layers"])
    decoder = [int(params["latent_dim"]), *hidden, pixels]
    sizes = [pixels, *hidden, *decoder] if has_encoder(clamping) else decoder
    return MLP(sizes, act, key=key)


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
