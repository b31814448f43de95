"""The paper's image augmentation, on a batch that is already on the device.

Everything is vectorised over the batch (vmap, jnp.where) and driven by a JAX key, so an
epoch's augmentation runs inside the jitted training step, is the same for the same key,
and never copies images back to the host. Sizes (`padding`, `size`) fix output shapes and
must therefore be static under jax.jit; the flip probability may be traced.

Images are [B, C, H, W], channels first, as `pcsearch.data.cifar` returns them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def _check_batch(images: Array) -> tuple[int, int, int, int]:
    if images.ndim != 4:
        raise ValueError(f"expected images of shape [B, C, H, W], found shape {images.shape}")
    b, c, h, w = images.shape
    return b, c, h, w


def _crop_at(images: Array, offsets: Array, height: int, width: int) -> Array:
    """Crop each image at its own (top, left) offset: one dynamic_slice, vmapped over B."""
    channels = images.shape[1]

    def one(image: Array, offset: Array) -> Array:
        return jax.lax.dynamic_slice(image, (0, offset[0], offset[1]), (channels, height, width))

    return jax.vmap(one)(images, offsets)


def _random_offsets(key: Array, batch: int, max_top: int, max_left: int) -> Array:
    """Uniform integer offsets in [0, max_top] x [0, max_left], one pair per image."""
    top_key, left_key = jax.random.split(key)
    top = jax.random.randint(top_key, (batch,), 0, max_top + 1)
    left = jax.random.randint(left_key, (batch,), 0, max_left + 1)
    return jnp.stack([top, left], axis=1)


def random_crop(key: Array, images: Array, padding: int) -> Array:
    """Zero-pad by `padding` on every side, then crop back to H x W at a random offset per
    image (the paper's "random crop with padding"). Shape and dtype are preserved."""
    b, _, h, w = _check_batch(images)
    if padding < 0:
        raise ValueError(f"padding must be >= 0, found {padding}")
    if padding == 0:
        return images
    pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    padded = jnp.pad(images, pad)
    offsets = _random_offsets(key, b, 2 * padding, 2 * padding)
    return _crop_at(padded, offsets, h, w)


def random_flip(key: Array, images: Array, p: float | Array = 0.5) -> Array:
    """Mirror each image left-right with probability `p`, independently per image."""
    b, _, _, _ = _check_batch(images)
    flip = jax.random.bernoulli(key, p, (b,))
    return jnp.where(flip[:, None, None, None], images[..., ::-1], images)


def augment(key: Array, images: Array, padding: int = 4, flip: float | Array = 0.5) -> Array:
    """The paper's CIFAR augmentation: random crop with `padding`, then a random flip."""
    crop_key, flip_key = jax.random.split(key)
    return random_flip(flip_key, random_crop(crop_key, images, padding), flip)


def augment_batch(
    key: Array, images: Array, *, padding: int = 0, crop: int | None = None, flip: bool = False
) -> Array:
    """A training batch as a task augments it (``pcsearch.catalogue.Augmentation``): a
    padded random crop (`padding`) or an unpadded random `crop` x `crop` window, then a flip
    with probability 1/2 when `flip`. With padding and flip it is exactly ``augment``."""
    crop_key, flip_key = jax.random.split(key)
    if padding:
        images = random_crop(crop_key, images, padding)
    if crop is not None:
        images = random_crop_to(crop_key, images, crop)
    return random_flip(flip_key, images, 0.5) if flip else images


def _size_pair(size: int | tuple[int, int], h: int, w: int) -> tuple[int, int]:
    out_h, out_w = (size, size) if isinstance(size, int) else size
    if not (0 < out_h <= h and 0 < out_w <= w):
        raise ValueError(f"crop size {out_h}x{out_w} does not fit images of {h}x{w}")
    return out_h, out_w


def center_crop(images: Array, size: int | tuple[int, int]) -> Array:
    """The central `size` crop of every image (Tiny ImageNet's test-time 64 -> 56)."""
    _, _, h, w = _check_batch(images)
    out_h, out_w = _size_pair(size, h, w)
    top, left = (h - out_h) // 2, (w - out_w) // 2
    return images[:, :, top : top + out_h, left : left + out_w]


def random_crop_to(key: Array, images: Array, size: int | tuple[int, int]) -> Array:
    """A `size` crop at a random offset per image, without padding (Tiny ImageNet's
    training-time 64 -> 56)."""
    b, _, h, w = _check_batch(images)
    out_h, out_w = _size_pair(size, h, w)
    offsets = _random_offsets(key, b, h - out_h, w - out_w)
    return _crop_at(images, offsets, out_h, out_w)
