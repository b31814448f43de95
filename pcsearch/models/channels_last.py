"""Convolutional states kept channels-last: [H, W, C] per example.

XLA runs convolutions channels-last on the CPU. With channels-first states every inference
step moved each state to channels-last before a convolution and back after it, and those
moves, fused into the state updates, took about half of a VGG-7 PC step on the CPU (twice
the time and twice the memory of the same step channels-last; ``benchmarks/epoch_time.py``).

Only the activations change layout. The layers stay Equinox's own, channels-first, with
the weights as pcx and PyTorch hold them ([out, in, kh, kw]); ``conv`` moves the axes
around a layer and XLA folds those moves into its own. What a model shows the outside
keeps the data's layout: the input image h_0, an image it predicts, and a flattened state
(channels-first order, so that a linear head reads the same weights as the paper's code).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

ConvLayer = eqx.nn.Conv2d | eqx.nn.ConvTranspose2d


def from_image(x: jax.Array) -> jax.Array:
    """[C, H, W] (the data's layout) -> [H, W, C]."""
    return jnp.moveaxis(x, 0, -1)


def to_image(x: jax.Array) -> jax.Array:
    """[H, W, C] -> [C, H, W]."""
    return jnp.moveaxis(x, -1, 0)


SMALL_SIDE_AREA = 16
"""Inputs of at most this many pixels (4x4 and below) are convolved as one matrix product
over their patches (``conv_by_patches``)."""


def conv(layer: ConvLayer, x: jax.Array) -> jax.Array:
    """An Equinox (transposed) convolution on a channels-last ``x``; channels-last out.

    A plain convolution of a small input (at most ``SMALL_SIDE_AREA`` pixels, such as
    VGG-19's 2x2 blocks of 512 channels) runs as a matrix product over its patches: XLA's
    CPU backend turns the input gradient of a 3x3 convolution of a 2x2 input into a
    convolution with the operands swapped, which takes its slow generic path (0.2 s for
    one such gradient at batch 8; 20 times slower VGG-19 PC steps).
    """
    if isinstance(layer, eqx.nn.Conv2d) and x.shape[0] * x.shape[1] <= SMALL_SIDE_AREA:
        return conv_by_patches(layer, x)
    return from_image(layer(to_image(x)))


def conv_by_patches(layer: eqx.nn.Conv2d, x: jax.Array) -> jax.Array:
    """``layer`` (no dilation, one group) on [H, W, C] as patches times the kernel."""
    if layer.dilation != (1, 1) or layer.groups != 1:
        raise ValueError(
            f"conv_by_patches takes undilated, ungrouped convolutions, not dilation "
            f"{layer.dilation} and groups {layer.groups}"
        )
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
    (top, bottom), (left, right) = layer.padding
    h, w, c = x.shape
    padded = jnp.pad(x, ((top, bottom), (left, right), (0, 0)))
    rows = (h + top + bottom - kh) // sh + 1
    cols = (w + left + right - kw) // sw + 1
    patches = jnp.stack(
        [
            padded[i : i + sh * (rows - 1) + 1 : sh, j : j + sw * (cols - 1) + 1 : sw]
            for i in range(kh)
            for j in range(kw)
        ],
        axis=2,
    )  # [rows, cols, kh * kw, C], in the kernel's (i, j) order
    kernel = jnp.transpose(layer.weight, (2, 3, 1, 0)).reshape(kh * kw * c, -1)
    out = patches.reshape(rows, cols, kh * kw * c) @ kernel
    return out if layer.bias is None else out + layer.bias.reshape(1, 1, -1)


def max_pool(x: jax.Array, size: int = 2) -> jax.Array:
    """Max over non-overlapping ``size`` x ``size`` windows of [H, W, C] (stride = size; a
    remainder row or column is dropped, as ``eqx.nn.MaxPool2d`` drops it).

    A reshape and a max, not ``lax.reduce_window``: its gradient is a plain compare and
    select, where the window op's costs a scatter (a tenth of a VGG PC step on the CPU).
    Where a window holds equal maxima the gradient is shared among them (reduce_window
    gives it to one); every activation of the catalogue has zero slope at such ties
    (ReLU's 0, hard tanh's saturation), so training sees no difference.
    """
    h, w, c = x.shape
    rows, cols = h // size, w // size
    windows = x[: rows * size, : cols * size].reshape(rows, size, cols, size, c)
    return windows.max(axis=(1, 3))


def flatten(x: jax.Array) -> jax.Array:
    """A state as the vector a linear layer reads: [H, W, C] in channels-first order (as
    ``x.reshape(-1)`` of [C, H, W]), so a head's weights are the paper's code's."""
    return to_image(x).reshape(-1) if x.ndim == 3 else x.reshape(-1)
