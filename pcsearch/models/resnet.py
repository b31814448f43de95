"""ResNet-18 of the paper's Table 1, CIFAR-style, as a PC model.

The paper does not spell its ResNet-18 out and its code (liukidar/pcx) has only an
unfinished backprop sketch (examples/6_resnet_test.ipynb: an ImageNet stem, batch norm,
nodes planned per stage). So this is the standard CIFAR ResNet-18 (He et al., 2016, as
commonly adapted to 32x32): a 3x3 stem conv of 64, four stages of two basic blocks (64,
128, 256, 512 channels; the first block of stages 2-4 at stride 2, with a 1x1 conv on its
shortcut), global average pooling and a linear output layer. It has no batch norm: the
model contract is per example, and none of the paper's PC networks normalise.

States: the output of every weight layer, as in the VGGs: the stem, both convs of every
block, and the output — 18 states for 18 layers. A block's first conv predicts from the
block's input, act(conv1(h_in)); its second predicts the block's output from two states,
act(conv2(h_mid) + shortcut(h_in)): the shortcut reads the state below the block, so PC
carries the block output's error straight back to h_in as backprop's identity path does.
The conv states are channels-last (``pcsearch.models.channels_last``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp

from pcsearch.models import channels_last
from pcsearch.models.base import forward_states

RESNET18 = {"widths": (64, 128, 256, 512), "blocks": (2, 2, 2, 2)}


class ResNet(eqx.Module):
    stem: eqx.nn.Conv2d
    convs1: tuple[eqx.nn.Conv2d, ...]
    convs2: tuple[eqx.nn.Conv2d, ...]
    shortcuts: tuple[eqx.nn.Conv2d | None, ...]
    head: eqx.nn.Linear
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        activation: Callable[[jax.Array], jax.Array],
        *,
        widths: Sequence[int] = RESNET18["widths"],
        blocks: Sequence[int] = RESNET18["blocks"],
        key: jax.Array,
    ) -> None:
        if len(widths) != len(blocks):
            raise ValueError(f"{len(widths)} stage widths but {len(blocks)} block counts")
        keys = list(jax.random.split(key, sum(blocks) + 2))
        self.stem = eqx.nn.Conv2d(input_shape[0], widths[0], 3, padding=1, key=keys.pop())
        convs1, convs2, shortcuts = [], [], []
        channels = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks, strict=True)):
            for block in range(count):
                stride = 2 if stage > 0 and block == 0 else 1
                k1, k2, k3 = jax.random.split(keys.pop(), 3)
                convs1.append(eqx.nn.Conv2d(channels, width, 3, stride=stride, padding=1, key=k1))
                convs2.append(eqx.nn.Conv2d(width, width, 3, padding=1, key=k2))
                projects = stride != 1 or channels != width
                shortcuts.append(
                    eqx.nn.Conv2d(channels, width, 1, stride=stride, use_bias=False, key=k3)
                    if projects
                    else None
                )
                channels = width
        self.convs1, self.convs2, self.shortcuts = tuple(convs1), tuple(convs2), tuple(shortcuts)
        self.head = eqx.nn.Linear(channels, num_classes, key=keys.pop())
        self.activation = activation

    @property
    def depth(self) -> int:
        return 2 + 2 * len(self.convs1)

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        below = states[index]
        if index == 0:
            return self.activation(channels_last.conv(self.stem, channels_last.from_image(below)))
        if index == self.depth - 1:
            return self.head(jnp.mean(below, axis=(0, 1)))
        block, second = divmod(index - 1, 2)
        if not second:
            return self.activation(channels_last.conv(self.convs1[block], below))
        block_input = states[index - 1]
        shortcut = self.shortcuts[block]
        skip = block_input if shortcut is None else channels_last.conv(shortcut, block_input)
        return self.activation(channels_last.conv(self.convs2[block], below) + skip)

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        return forward_states(self, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.forward_states(x)[-1]
