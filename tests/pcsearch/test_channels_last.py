"""Channels-last conv states (pcsearch.models.channels_last) compute what Equinox's
channels-first layers compute: the same convolution, pool, gradient and flattening order,
only with the channel axis last."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.models import channels_last

KEY = jax.random.PRNGKey(0)


@pytest.mark.parametrize(
    "layer",
    [
        eqx.nn.Conv2d(3, 5, 3, padding=1, key=KEY),
        eqx.nn.Conv2d(3, 5, 3, stride=2, key=KEY),
        eqx.nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1, key=KEY),
    ],
    ids=["conv", "strided", "transposed"],
)
def test_conv_is_equinox_conv_with_the_channels_last(layer) -> None:
    x = jax.random.normal(jax.random.PRNGKey(1), (3, 9, 9))
    expected = layer(x)
    got = channels_last.conv(layer, channels_last.from_image(x))
    assert got.shape == (*expected.shape[1:], expected.shape[0])
    np.testing.assert_allclose(channels_last.to_image(got), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("side", "layer"),
    [
        (2, eqx.nn.Conv2d(6, 5, 3, padding=1, key=KEY)),  # VGG-19's 2x2 blocks
        (1, eqx.nn.Conv2d(6, 5, 3, padding=1, key=KEY)),
        (4, eqx.nn.Conv2d(6, 5, 3, key=KEY)),
        (4, eqx.nn.Conv2d(6, 5, 3, stride=2, padding=1, key=KEY)),
        (3, eqx.nn.Conv2d(6, 5, 1, use_bias=False, key=KEY)),
    ],
)
def test_small_inputs_convolve_by_patches_as_equinox_does(side: int, layer) -> None:
    """Inputs of at most 16 pixels take the patch product: same values and gradients."""
    x = jax.random.normal(jax.random.PRNGKey(4), (6, side, side))
    assert side * side <= channels_last.SMALL_SIDE_AREA

    def reference(layer, x):
        return jnp.sum(jnp.tanh(layer(x)))

    def ours(layer, x):
        return jnp.sum(jnp.tanh(channels_last.conv(layer, channels_last.from_image(x))))

    np.testing.assert_allclose(ours(layer, x), reference(layer, x), rtol=1e-5)
    got, want = (eqx.filter_grad(f)(layer, x) for f in (ours, reference))
    np.testing.assert_allclose(got.weight, want.weight, rtol=1e-4, atol=1e-6)
    got, want = (jax.grad(f, argnums=1)(layer, x) for f in (ours, reference))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="dilation"):
        channels_last.conv_by_patches(eqx.nn.Conv2d(6, 5, 3, dilation=2, key=KEY), x)


@pytest.mark.parametrize("side", [8, 7])  # 7: the last row and column are dropped
def test_max_pool_and_its_gradient_are_equinox_max_pool_channels_last(side: int) -> None:
    pool = eqx.nn.MaxPool2d(kernel_size=2, stride=2)
    x = jax.random.normal(jax.random.PRNGKey(2), (4, side, side))  # no ties
    cotangent = jax.random.normal(jax.random.PRNGKey(3), (4, side // 2, side // 2))

    def reference(x):
        return jnp.sum(pool(x) * cotangent)

    def ours(x):
        pooled = channels_last.max_pool(channels_last.from_image(x))
        return jnp.sum(channels_last.to_image(pooled) * cotangent)

    np.testing.assert_allclose(ours(x), reference(x), rtol=1e-6)
    np.testing.assert_allclose(jax.grad(ours)(x), jax.grad(reference)(x), rtol=1e-6)


def test_flatten_reads_channels_first_order_so_heads_keep_their_weights() -> None:
    x = jnp.arange(2 * 3 * 4, dtype=jnp.float32).reshape(2, 3, 4)  # [C, H, W]
    np.testing.assert_array_equal(channels_last.flatten(channels_last.from_image(x)), x.reshape(-1))
    np.testing.assert_array_equal(channels_last.flatten(jnp.arange(5.0)), jnp.arange(5.0))
