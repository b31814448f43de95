"""AlexNet for 32x32 images, as the paper times it (Table 4, "AlexNet - CIFAR-10").

Layers from the paper's code (liukidar/pcx: examples/alexnet.py and
examples/time_benchmarking/ALEXNET/cifar10/PC_SE.py, which agree): five conv blocks, kernel 3,
padding 1 — 64 channels at stride 2 then a 2x2 max-pool, 192 then a pool, 384, 256, and 256
then a pool (32x32 inputs end at 256x2x2) — and two hidden linear layers of 4096 before the
output layer. Every block and hidden layer is a state: 8 states, as that code's nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax

from pcsearch.models.convnet import ConvNet

ALEXNET = {
    "channels": (64, 192, 384, 256, 256),
    "strides": (2, 1, 1, 1, 1),
    "pools": (True, True, False, False, True),
    "hidden": (4096, 4096),
}


def alexnet(
    input_shape: Sequence[int],
    num_classes: int,
    activation: Callable[[jax.Array], jax.Array],
    *,
    key: jax.Array,
) -> ConvNet:
    return ConvNet(input_shape, num_classes, activation=activation, key=key, **ALEXNET)
