"""A plain convolutional stack with hidden linear layers and an optional long skip: the
shape shared by the paper's AlexNet (Table 4) and VGG-19 (Appendix E).

States, bottom to top: one per conv block (conv -> activation -> 2x2 max-pool where the
block has one; channels-last, ``pcsearch.models.channels_last``), one per hidden linear
layer (linear -> activation, on the flattened state below), and the output (a linear head).
With ``skip_from`` = s, the output's prediction also reads state s:
``head(h_{L-1}) + skip(flatten(h_s))``, the skip of Appendix E ("an early layer ...
flattened and adjusted by a linear layer ... reintegrated at the classification stage").
It is a prediction from two states, so PC sends the output error straight back to h_s
instead of through every layer in between.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax

from pcsearch.models import channels_last
from pcsearch.models.base import forward_states


def _conv_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class ConvNet(eqx.Module):
    convs: tuple[eqx.nn.Conv2d, ...]
    hidden: tuple[eqx.nn.Linear, ...]
    head: eqx.nn.Linear
    skip: eqx.nn.Linear | None
    pools: tuple[bool, ...] = eqx.field(static=True)
    skip_from: int | None = eqx.field(static=True)
    state_shapes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    """The input's and the predictions' shapes, one example, channels-first (a skip's
    width); the conv states themselves are channels-last."""
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int],
        activation: Callable[[jax.Array], jax.Array],
        *,
        pools: Sequence[bool],
        paddings: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        hidden: Sequence[int] = (),
        skip_from: int | None = None,
        kernel_size: int = 3,
        key: jax.Array,
    ) -> None:
        n = len(channels)
        paddings = tuple(paddings) if paddings is not None else (1,) * n
        strides = tuple(strides) if strides is not None else (1,) * n
        if not n == len(paddings) == len(strides) == len(pools):
            raise ValueError(
                f"{n} channel sizes, {len(paddings)} paddings, {len(strides)} strides, "
                f"{len(pools)} pools"
            )
        keys = list(jax.random.split(key, n + len(hidden) + 2))
        ins = (input_shape[0], *channels[:-1])
        self.convs = tuple(
            eqx.nn.Conv2d(i, o, kernel_size, stride=s, padding=p, key=keys.pop())
            for i, o, s, p in zip(ins, channels, strides, paddings, strict=True)
        )
        shapes: list[tuple[int, ...]] = [tuple(input_shape)]
        size = list(input_shape[1:])
        for c, s, p, pooled in zip(channels, strides, paddings, pools, strict=True):
            size = [_conv_size(d, kernel_size, s, p) // (2 if pooled else 1) for d in size]
            if min(size) < 1:
                raise ValueError(f"input {tuple(input_shape)} is too small for {n} conv blocks")
            shapes.append((c, *size))
        width = channels[-1] * size[0] * size[1]
        linears = []
        for h in hidden:
            linears.append(eqx.nn.Linear(width, h, key=keys.pop()))
            shapes.append((h,))
            width = h
        self.hidden = tuple(linears)
        self.head = eqx.nn.Linear(width, num_classes, key=keys.pop())
        shapes.append((num_classes,))
        if skip_from is not None and not 0 <= skip_from < len(shapes) - 2:
            raise ValueError(
                f"skip_from={skip_from}: the skip must leave a state below the head's input "
                f"(0..{len(shapes) - 3})"
            )
        self.skip_from = skip_from
        self.skip = (
            None
            if skip_from is None
            else eqx.nn.Linear(_numel(shapes[skip_from]), num_classes, key=keys.pop())
        )
        self.state_shapes = tuple(shapes)
        self.pools = tuple(pools)
        self.activation = activation

    @property
    def depth(self) -> int:
        return len(self.convs) + len(self.hidden) + 1

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        below = channels_last.from_image(states[0]) if index == 0 else states[index]
        if index < len(self.convs):
            out = self.activation(channels_last.conv(self.convs[index], below))
            return channels_last.max_pool(out) if self.pools[index] else out
        if index < self.depth - 1:
            return self.activation(
                self.hidden[index - len(self.convs)](channels_last.flatten(below))
            )
        out = self.head(channels_last.flatten(below))
        if self.skip is not None and self.skip_from is not None:
            out = out + self.skip(self._skip_input(states))
        return out

    def _skip_input(self, states: Sequence[jax.Array]) -> jax.Array:
        """The skip's source flattened: the input image is channels-first already."""
        source = states[self.skip_from]
        return source.reshape(-1) if self.skip_from == 0 else channels_last.flatten(source)

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        return forward_states(self, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.forward_states(x)[-1]


def _numel(shape: Sequence[int]) -> int:
    out = 1
    for d in shape:
        out *= int(d)
    return out
