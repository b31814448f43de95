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


def conv(layer: ConvLayer, x: jax.Array) -> jax.Array:
    """An Equinox (transposed) convolution on a channels-last ``x``; channels-last out."""
    return from_image(layer(to_image(x)))


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
