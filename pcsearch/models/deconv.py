"""(De)convolutional stacks for the paper's image autoencoders (Table 8).

PC's model is a decoder only: a free latent h_0 of 8 channels of 4x4 and three transposed
convolutions, 8 -> 8 -> 5 -> image channels, each multiplying the side by the same stride
(2 for 32x32 images: 4 -> 8 -> 16 -> 32). BP's autoencoder puts three strided convolutions,
image channels -> 5 -> 8 -> 8, in front of the same decoder. Every state is a
post-activation except the output, which is linear (the paper's code: ``output_act_fn``
null). Paddings are derived from the sizes, so every kernel size lands exactly on them.
Every state is channels-last (``pcsearch.models.channels_last``), the free latent too; the
images (BP's input, the prediction of the data) keep the data's channels-first layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax

from pcsearch.models import channels_last
from pcsearch.models.base import forward_states

Layer = eqx.nn.Conv2d | eqx.nn.ConvTranspose2d

LATENT_SHAPE = (4, 4, 8)
"""Table 8: internal state 4x4 with 8 channels (channels-last, as every conv state)."""
DECODER_CHANNELS = (8, 5)
"""Hidden channels of the decoder; its output has the image's channels (pcx: [8, 5, 3])."""
ENCODER_CHANNELS = (5, 8)
"""Hidden channels of BP's encoder; it ends at the latent's channels (pcx: 3 -> 5 -> 8 -> 8)."""


class ConvStack(eqx.Module):
    """A chain of conv or transposed-conv layers: state l+1 = f(layer_l(h_l)), the last
    layer linear. A decoder's h_0 is the free latent (``latent_shape``), an encoder's the
    image (``image_bottom``: channels-first, as the data)."""

    layers: tuple[Layer, ...]
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)
    latent_shape: tuple[int, ...] = eqx.field(static=True)
    image_bottom: bool = eqx.field(static=True, default=False)

    @property
    def depth(self) -> int:
        return len(self.layers)

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        below = states[index]
        if index == 0 and self.image_bottom:
            below = channels_last.from_image(below)
        out = channels_last.conv(self.layers[index], below)
        return channels_last.to_image(out) if index == self.depth - 1 else self.activation(out)

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        return forward_states(self, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.forward_states(x)[-1]


def transpose_padding(size_in: int, size_out: int, stride: int, kernel: int) -> tuple[int, int]:
    """(padding, output_padding) that make a transposed convolution map ``size_in`` to
    ``size_out``: trim the unpadded output (size_in - 1) * stride + kernel evenly, then add
    back at the end what an odd difference leaves short."""
    full = (size_in - 1) * stride + kernel
    padding = max(full - size_out + 1, 0) // 2
    extra = size_out - (full - 2 * padding)
    if not 0 <= extra < max(stride, 1) or padding >= kernel:
        raise ValueError(
            f"kernel {kernel} with stride {stride} cannot map size {size_in} to {size_out}"
        )
    return padding, extra


def _stride(image_side: int, latent_side: int, layers: int) -> int:
    """The one stride that grows the latent to the image in ``layers`` steps."""
    stride = round((image_side / latent_side) ** (1 / layers))
    if latent_side * stride**layers != image_side:
        raise ValueError(
            f"a {latent_side}x{latent_side} latent cannot reach {image_side}x{image_side} "
            f"images with {layers} equal strides; use images of side {latent_side} * s^{layers}"
        )
    return stride


def _decoder_layers(image_shape: Sequence[int], kernel: int, key: jax.Array) -> list[Layer]:
    channels, side = int(image_shape[0]), int(image_shape[-1])
    if int(image_shape[-2]) != side:
        raise ValueError(f"the deconv decoder needs square images, got {tuple(image_shape)}")
    latent_side, latent_channels = LATENT_SHAPE[0], LATENT_SHAPE[-1]
    outs = (*DECODER_CHANNELS, channels)
    stride = _stride(side, latent_side, len(outs))
    ins = (latent_channels, *outs[:-1])
    layers: list[Layer] = []
    size = latent_side
    for c_in, c_out, k in zip(ins, outs, jax.random.split(key, len(outs)), strict=True):
        padding, extra = transpose_padding(size, size * stride, stride, kernel)
        layers.append(
            eqx.nn.ConvTranspose2d(
                c_in, c_out, kernel, stride=stride, padding=padding, output_padding=extra, key=k
            )
        )
        size *= stride
    return layers


def _encoder_layers(image_shape: Sequence[int], kernel: int, key: jax.Array) -> list[Layer]:
    """Strided convolutions with 'same'-style padding (k - 1) // 2, as BP's code has."""
    channels, side = int(image_shape[0]), int(image_shape[-1])
    outs = (*ENCODER_CHANNELS, LATENT_SHAPE[-1])
    stride = _stride(side, LATENT_SHAPE[0], len(outs))
    ins = (channels, *outs[:-1])
    padding = (kernel - 1) // 2
    layers: list[Layer] = []
    for c_in, c_out, k in zip(ins, outs, jax.random.split(key, len(outs)), strict=True):
        layers.append(eqx.nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, key=k))
        after = (side + 2 * padding - kernel) // stride + 1
        if after * stride != side:
            raise ValueError(f"kernel {kernel} does not divide side {side} by {stride} exactly")
        side = after
    return layers


def deconv_decoder(
    image_shape: Sequence[int],
    kernel_size: int,
    activation: Callable[[jax.Array], jax.Array],
    *,
    key: jax.Array,
) -> ConvStack:
    """PC's generative model: the 4x4x8 latent up to ``image_shape`` ([C, H, W])."""
    layers = _decoder_layers(image_shape, kernel_size, key)
    return ConvStack(tuple(layers), activation, LATENT_SHAPE)


def conv_autoencoder(
    image_shape: Sequence[int],
    kernel_size: int,
    activation: Callable[[jax.Array], jax.Array],
    *,
    key: jax.Array,
) -> ConvStack:
    """BP's baseline: three convolutions down to the latent, the decoder back up."""
    k_enc, k_dec = jax.random.split(key)
    layers = _encoder_layers(image_shape, kernel_size, k_enc)
    layers += _decoder_layers(image_shape, kernel_size, k_dec)
    return ConvStack(tuple(layers), activation, tuple(int(n) for n in image_shape), True)
