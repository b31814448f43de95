"""The peer's networks (``pcx_peer.py``): pcsearch's models built from pcx 0.6.3's own layers.

Standalone under the peer's interpreter, like ``pcx_peer.py``: it imports only pcx, JAX and
Equinox (inside the builders, so that the layouts can be read without pcx), never pcsearch.

Classifiers (``mlp``, ``vgg5``, ``vgg7``): hidden vode l holds the post-activation
act(W h_{l-1} + b), the output vode is linear (logits under PC-CE) and clamped to the label,
states start from the forward pass. The VGGs put a vode after every conv -> activation (-> 2x2
pool where the block has one) and a linear head on the flattened last block, as pcsearch's
``VGG`` has it.

``ae-deconv`` is pcsearch's PC decoder of the deconv autoencoder (Table 8,
``pcsearch.models.deconv.deconv_decoder``): a free latent vode h0 (8 channels of 4x4, zero
energy: nothing predicts it), then transposed convolutions 8 -> 8 -> 5 -> image channels, each
of the one stride that reaches the image (2 for 32x32) with the (padding, output_padding) of
``transpose_padding`` for the kernel size; hidden vodes hold post-activations, the output is
linear and clamped to the image (squared-error energy). pcx holds every state channels-first
([C, H, W]) where pcsearch keeps its states channels-last: the computation is the same. The
states start as pcsearch's ``init`` says: ``zeros``, every state zero (the paper's
autoencoders), or ``forward``, the latent zero and the states above it its forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

VGG_BLOCKS = {
    "vgg5": ((128, 1, True), (256, 1, True), (512, 1, True), (512, 1, True)),
    "vgg7": (
        (128, 1, True),
        (128, 1, False),
        (256, 1, True),
        (256, 0, False),
        (512, 1, True),
        (512, 0, False),
    ),
}
"""(channels, padding, pooled) of each 3x3, stride-1 conv, as the paper's code and pcsearch
build them: VGG-5 pads all four convs by 1 (Table 5 prints 0 for the fourth) and pools after
each; VGG-7 is Table 5's, pooled after convs 1, 3 and 5."""

DECODERS = ("ae-deconv",)
LATENT_SHAPE = (8, 4, 4)
"""Table 8's latent, channels-first (pcsearch's ``LATENT_SHAPE`` is (4, 4, 8))."""
DECODER_CHANNELS = (8, 5)
"""Hidden channels of the decoder; its output has the image's channels."""
DECODER_INITS = ("zeros", "forward")


def activation(name: str) -> Callable:
    import jax

    table = {
        "gelu": jax.nn.gelu,
        "relu": jax.nn.relu,
        "leaky_relu": jax.nn.leaky_relu,
        "tanh": jax.numpy.tanh,
        "hard_tanh": jax.nn.hard_tanh,
        "silu": jax.nn.silu,
    }
    return table[name]


def vgg_feature_size(model: str, height: int) -> int:
    """Side of the last block's output for a square input of side ``height``."""
    for _, padding, pooled in VGG_BLOCKS[model]:
        height = height + 2 * padding - 2
        height = height // 2 if pooled else height
    return height


def transpose_padding(size_in: int, size_out: int, stride: int, kernel: int) -> tuple[int, int]:
    """(padding, output_padding) that make a transposed convolution map ``size_in`` to
    ``size_out`` (pcsearch's rule): trim the unpadded output (size_in - 1) * stride + kernel
    evenly, then add back at the end what an odd difference leaves short."""
    full = (size_in - 1) * stride + kernel
    padding = max(full - size_out + 1, 0) // 2
    extra = size_out - (full - 2 * padding)
    if not 0 <= extra < max(stride, 1) or padding >= kernel:
        raise ValueError(
            f"kernel {kernel} with stride {stride} cannot map size {size_in} to {size_out}"
        )
    return padding, extra


def decoder_layout(
    image_shape: Sequence[int],
    kernel: int,
    latent_shape: Sequence[int] = LATENT_SHAPE,
    channels: Sequence[int] = DECODER_CHANNELS,
) -> list[tuple[int, int, int, int, int]]:
    """(in, out, stride, padding, output_padding) of each transposed convolution, from the
    [C, h, w] latent up to the [C, H, W] image."""
    image_channels, side = int(image_shape[0]), int(image_shape[-1])
    latent_side = int(latent_shape[-1])
    if int(image_shape[-2]) != side or int(latent_shape[-2]) != latent_side:
        raise ValueError(f"the decoder needs square images and latents, got {tuple(image_shape)}")
    outs = (*(int(c) for c in channels), image_channels)
    stride = round((side / latent_side) ** (1 / len(outs)))
    if latent_side * stride ** len(outs) != side:
        raise ValueError(f"a latent of side {latent_side} cannot reach side {side} evenly")
    layout, size = [], latent_side
    for c_in, c_out in zip((int(latent_shape[0]), *outs[:-1]), outs, strict=True):
        padding, extra = transpose_padding(size, size * stride, stride, kernel)
        layout.append((c_in, c_out, stride, padding, extra))
        size *= stride
    return layout


def make_classifier(
    model: str,
    example_shape: tuple[int, ...],
    classes: int,
    act: Callable,
    output_energy: Callable,
    hidden_width: int,
    hidden_layers: int,
) -> Any:
    """The MLP or VGG as a pcx EnergyModule: ``model(x, y)`` clamps the label ``y`` (if given)
    and returns the output vode's prediction."""
    import jax
    import numpy as np
    import pcx
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc

    class Net(pxc.EnergyModule):
        """One vode per predicted layer; hidden vodes hold post-activations, the output is
        linear (logits under PC-CE)."""

        def __init__(self) -> None:
            super().__init__()
            self.act = pcx.static(act)
            if model in VGG_BLOCKS:
                if len(example_shape) != 3:
                    raise SystemExit(f"{model} needs [N, C, H, W] images, got {example_shape}")
                blocks = VGG_BLOCKS[model]
                ins = (example_shape[0], *(c for c, _, _ in blocks[:-1]))
                self.convs = [
                    pxnn.Conv2d(i, c, kernel_size=(3, 3), stride=(1, 1), padding=(p, p))
                    for i, (c, p, _) in zip(ins, blocks, strict=True)
                ]
                self.pools = pcx.static(tuple(pooled for _, _, pooled in blocks))
                self.pool = pxnn.MaxPool2d(kernel_size=2, stride=2)
                side = vgg_feature_size(model, example_shape[1])
                self.layers = [pxnn.Linear(blocks[-1][0] * side * side, classes)]
            else:
                sizes = [int(np.prod(example_shape))]
                sizes += [hidden_width] * hidden_layers + [classes]
                self.convs = []
                self.pools = pcx.static(())
                self.layers = [
                    pxnn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True)
                ]
            depth = len(self.convs) + len(self.layers)
            self.vodes = [pxc.Vode() for _ in range(depth - 1)]
            self.vodes.append(pxc.Vode(energy_fn=output_energy))
            self.vodes[-1].h.frozen = True  # the output is clamped to the label

        def __call__(self, x: jax.Array, y: jax.Array | None = None) -> jax.Array:
            h = x
            for conv, pooled, vode in zip(self.convs, self.pools, self.vodes, strict=False):
                h = self.act(conv(h))
                h = vode(self.pool(h) if pooled else h)
            h = h.reshape(-1)
            dense_vodes = self.vodes[len(self.convs) :]
            last = len(self.layers) - 1
            for index, (layer, vode) in enumerate(zip(self.layers, dense_vodes, strict=True)):
                h = vode(layer(h) if index == last else self.act(layer(h)))
            if y is not None:
                self.vodes[-1].set("h", y)
            return self.vodes[-1].get("u")

    return Net()


def make_decoder(
    image_shape: Sequence[int],
    kernel: int,
    act: Callable,
    init: str = "zeros",
    latent_shape: Sequence[int] = LATENT_SHAPE,
    channels: Sequence[int] = DECODER_CHANNELS,
) -> Any:
    """pcsearch's deconv PC decoder as a pcx EnergyModule (see the module docstring):
    ``model(x, y)`` ignores ``x`` (the latent is free), clamps the image ``y`` (if given) at
    the top and returns the output vode's prediction; ``model.decode(h0)`` is the plain
    forward pass from a latent, the reconstruction."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import pcx
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc

    if init not in DECODER_INITS:
        raise SystemExit(f"the decoder starts its states as {DECODER_INITS}, not {init!r}")
    layout = decoder_layout(image_shape, kernel, latent_shape, channels)
    latent = tuple(int(n) for n in latent_shape)

    def to_zero(node, key, value, rkg):
        return jnp.zeros_like(value)

    class Decoder(pxc.EnergyModule):
        """A free latent vode, one vode per transposed conv, the last clamped to the data."""

        def __init__(self) -> None:
            super().__init__()
            # pcx 0.6.3's own pcx.nn.ConvTranspose cannot be built (it hands eqx an ``rkg``
            # argument instead of a key), so, as the paper's deconv code does, eqx's
            # transposed conv wrapped as a pcx Layer, its weights from pcx's generator.
            self.layers = [
                pxnn.Layer(
                    eqx.nn.ConvTranspose,
                    2,
                    i,
                    o,
                    kernel,
                    stride=s,
                    padding=p,
                    output_padding=e,
                    key=pcx.RKG(),
                )
                for i, o, s, p, e in layout
            ]
            # pcx 0.6.3's Vode takes no shape: the latent's h comes from a zero u at
            # initialisation (pcsearch starts it at zero too), and its zero energy makes u
            # irrelevant afterwards.
            self.vodes = [pxc.Vode(energy_fn=pxc.zero_energy)]
            ruleset = {pxc.STATUS.INIT: ("h, u <- u:to_zero",)} if init == "zeros" else {}
            self.vodes += [
                pxc.Vode(ruleset=ruleset, tforms={"to_zero": to_zero}) for _ in layout[:-1]
            ]
            self.vodes.append(pxc.Vode())  # h: the image, set right after initialisation
            self.vodes[-1].h.frozen = True

        def __call__(self, x: jax.Array | None, y: jax.Array | None = None) -> jax.Array:
            h = self.vodes[0](jnp.zeros(latent))
            for layer, vode in zip(self.layers[:-1], self.vodes[1:-1], strict=True):
                h = vode(act(layer(h)))
            self.vodes[-1](self.layers[-1](h))
            if y is not None:
                self.vodes[-1].set("h", y)
            return self.vodes[-1].get("u")

        def decode(self, h: jax.Array) -> jax.Array:
            for layer in self.layers[:-1]:
                h = act(layer(h))
            return self.layers[-1](h)

    return Decoder()
