"""VGG-style convolutional networks of the paper's Table 5, as PC models.

Every block is conv -> activation, followed by a 2x2 max-pool (stride 2) where the model
has one there, and its output is a state (channels-last, ``pcsearch.models.channels_last``);
a linear layer on the flattened last block predicts the output (the logits). The same model
trains with PC (states per block) and with BP (its forward pass).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax

from pcsearch.models import channels_last
from pcsearch.models.base import forward_states

VGG5 = {"channels": (128, 256, 512, 512), "paddings": (1, 1, 1, 1), "pools": (True,) * 4}
"""VGG-5 as the paper's code ran it (liukidar/pcx v0.6.1,
examples/s4_1_discriminative_mode/VGG5/{cifar10,cifar100,tinyimagenet}/*.py): Table 5's
channels, kernel 3, stride 1, a 2x2 pool after every block, and every conv padded by 1 (Table
5 prints 0 for the fourth). 32x32 inputs end at 512x2x2 (a head of 2048 inputs), Tiny
ImageNet's 56x56 crops at 512x3x3 (4608), as that code's heads read."""
VGG5_TABLE5 = VGG5 | {"paddings": (1, 1, 1, 0)}
"""The text's layout (Table 5: the fourth conv unpadded; 32x32 inputs end at 512x1x1). Not a
task's model: kept so that ``VGG(..., **VGG5_TABLE5)`` builds it for comparison."""
VGG7 = {
    "channels": (128, 128, 256, 256, 512, 512),
    "paddings": (1, 1, 1, 0, 1, 0),
    "pools": (True, False, True, False, True, False),
}
"""Table 5's VGG-7; pools after blocks 1, 3 and 5, as in the paper's code (32x32 inputs end
at 512x1x1)."""
VGG9 = {
    "channels": (128, 128, 256, 256, 512, 512, 512, 512),
    "paddings": (1,) * 8,
    "pools": (True, False) * 4,
}
"""VGG-9 of Table 1: neither Table 5 nor the paper's code (liukidar/pcx) gives its layers, so
this is our choice: VGG-7's pairs of convs, pooled after the first of each pair, with a
fourth pair of 512 and every conv padded (VGG-7's unpadded convs would shrink 32x32 inputs
to nothing). 32x32 inputs end at 512x2x2, Tiny ImageNet's 56x56 crops at 512x3x3."""


class VGG(eqx.Module):
    convs: tuple[eqx.nn.Conv2d, ...]
    pools: tuple[bool, ...] = eqx.field(static=True)
    head: eqx.nn.Linear
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int],
        paddings: Sequence[int],
        activation: Callable[[jax.Array], jax.Array],
        pools: Sequence[bool] | None = None,
        *,
        kernel_size: int = 3,
        key: jax.Array,
    ) -> None:
        pools = tuple(pools) if pools is not None else (True,) * len(channels)
        if not len(channels) == len(paddings) == len(pools):
            raise ValueError(
                f"{len(channels)} channel sizes, {len(paddings)} paddings, {len(pools)} pools"
            )
        self.pools = pools
        keys = jax.random.split(key, len(channels) + 1)
        ins = (input_shape[0], *channels[:-1])
        self.convs = tuple(
            eqx.nn.Conv2d(i, o, kernel_size, padding=p, key=k)
            for i, o, p, k in zip(ins, channels, paddings, keys, strict=False)
        )
        self.activation = activation
        size = list(input_shape[1:])
        for p, pooled in zip(paddings, pools, strict=True):
            size = [(s + 2 * p - kernel_size + 1) // (2 if pooled else 1) for s in size]
        if min(size) < 1:
            raise ValueError(f"input {tuple(input_shape)} is too small for {len(channels)} blocks")
        self.head = eqx.nn.Linear(channels[-1] * size[0] * size[1], num_classes, key=keys[-1])

    @property
    def depth(self) -> int:
        return len(self.convs) + 1

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        below = channels_last.from_image(states[0]) if index == 0 else states[index]
        if index < len(self.convs):
            out = self.activation(channels_last.conv(self.convs[index], below))
            return channels_last.max_pool(out) if self.pools[index] else out
        return self.head(channels_last.flatten(below))

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        return forward_states(self, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.forward_states(x)[-1]
