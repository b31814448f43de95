"""VGG-19 of the paper's Appendix E, without and with its skip connection.

The layers are those of the paper's code for Table 11 (liukidar/pcx,
examples/s5_analysis_and_metrics/energy_and_stability/skip_connections/
vgg19_skip_bestparams.py and vgg19_noskip_bestparams.py): the 16 convs of standard VGG-19
(kernel 3, stride 1, padding 1; 64, 64 | 128, 128 | 256 x4 | 512 x4 | 512 x4 channels, a
2x2 max-pool closing each group), then one hidden linear layer of 4096 and the output
layer: 18 states. Each conv's output is a state (its pool, if any, folded in).

The skip reads the third conv's output (128x16x16 on CIFAR-10, state 3), flattens it and
adds a linear map of it to the output layer's prediction, as that code does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax

from pcsearch.models.convnet import ConvNet

VGG19_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512)
VGG19_POOLS = tuple(i in (1, 3, 7, 11, 15) for i in range(16))
"""A pool after the last conv of each group: 32x32 inputs end at 512x1x1."""
VGG19_HIDDEN = (4096,)
VGG19_SKIP_FROM = 3
"""The state the skip reads: the output of the third conv (states count from the input, 0)."""


def vgg19(
    input_shape: Sequence[int],
    num_classes: int,
    activation: Callable[[jax.Array], jax.Array],
    *,
    skip: bool,
    key: jax.Array,
) -> ConvNet:
    return ConvNet(
        input_shape,
        num_classes,
        VGG19_CHANNELS,
        activation,
        pools=VGG19_POOLS,
        hidden=VGG19_HIDDEN,
        skip_from=VGG19_SKIP_FROM if skip else None,
        key=key,
    )
