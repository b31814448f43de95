"""The paper's image augmentation, on a batch that is already on the device.

Everything is vectorised over the batch (vmap, jnp.where) and driven by a JAX key, so an
epoch's augmentation runs inside the jitted training step, is the same for the same key,
and never copies images back to the host. Sizes (`padding`, `size`) fix output shapes and
must therefore be static under jax.jit; the flip probability may be traced.

Images are [B, C, H, W], channels first, as `pcsearch.data.cifar` returns them: already
normalised. The paper's code pads and rotates the raw image with black (0) before
normalising, so the pixels that come from no input pixel hold `black_level`, raw black as
the data set's normalisation maps it, not 0 (the mean colour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from pcsearch.catalogue import DATASET_SHAPES, Augmentation
from pcsearch.data import cifar, tinyimagenet

Array = jax.Array
Fill = float | Sequence[float]
"""A value for pixels that come from no input pixel: one for all channels, or one each."""

_NORMALISATION: dict[str, tuple[Sequence[float], Sequence[float]]] = {
    "cifar10": (cifar.MEAN["cifar10"], cifar.STD["cifar10"]),
    "cifar100": (cifar.MEAN["cifar100"], cifar.STD["cifar100"]),
    "tinyimagenet": (tinyimagenet.MEAN, tinyimagenet.STD),
}
"""Per-channel (mean, std) the loaders normalise x/255 with (Table 6)."""


def black_level(dataset: str) -> tuple[float, ...]:
    """Raw black (x = 0) as ``dataset``'s loader stores it, per channel: (0 - mean) / std in
    the loader's float32 arithmetic; 0 for sets kept as x/255 ("-raw", celeba)."""
    if dataset in _NORMALISATION:
        mean, std = (np.asarray(v, np.float32) for v in _NORMALISATION[dataset])
        return tuple(float(v) for v in (np.float32(0.0) - mean) / std)
    if dataset.endswith("-raw") or dataset == "celeba":
        return (0.0,) * DATASET_SHAPES[dataset][0][0]
    raise ValueError(
        f"no black level for data set {dataset!r}: its normalisation is not known to "
        f"pcsearch.data.augment; add its (mean, std) to _NORMALISATION, or use fill='mean'"
    )


def fill_of(augmentation: Augmentation) -> Fill:
    """The value ``augmentation`` fills with: its data set's black, or 0 (the mean)."""
    if augmentation.fill == "mean" or not augmentation.fills:
        return 0.0
    if augmentation.dataset is None:
        raise ValueError(
            f"{augmentation!r} fills with black but names no data set; bind the task's with "
            "augmentation.for_dataset(task.dataset)"
        )
    return black_level(augmentation.dataset)


def _fill_array(fill: Fill, channels: int, dtype) -> Array:
    """``fill`` as [C, 1, 1], checked against the images' channels."""
    values = jnp.asarray(fill, dtype)
    if values.ndim == 0:
        values = jnp.full((channels,), values, dtype)
    if values.shape != (channels,):
        raise ValueError(f"fill has {values.shape[0]} values for images of {channels} channels")
    return values[:, None, None]


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


def random_crop(key: Array, images: Array, padding: int, fill: Fill = 0.0) -> Array:
    """Pad by `padding` on every side with `fill` (per channel or one value), then crop
    back to H x W at a random offset per image (the paper's "random crop with padding").
    Shape and dtype are preserved."""
    b, c, h, w = _check_batch(images)
    if padding < 0:
        raise ValueError(f"padding must be >= 0, found {padding}")
    if padding == 0:
        return images
    canvas = jnp.broadcast_to(
        _fill_array(fill, c, images.dtype), (b, c, h + 2 * padding, w + 2 * padding)
    )
    padded = canvas.at[:, :, padding : padding + h, padding : padding + w].set(images)
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


def rotate(images: Array, degrees: Array, fill: Fill = 0.0) -> Array:
    """Rotate each image counter-clockwise by its own angle in degrees ([B]) about its
    centre, keeping its size: nearest neighbour, `fill` where the rotated image does not
    reach (torchvision's rotate with its defaults)."""
    _, c, h, w = _check_batch(images)
    fill_values = _fill_array(fill, c, images.dtype)
    rows, cols = jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing="ij")
    y, x = rows - (h - 1) / 2, cols - (w - 1) / 2

    def one(image: Array, angle: Array) -> Array:
        theta = jnp.deg2rad(angle)
        cos, sin = jnp.cos(theta), jnp.sin(theta)
        src_x = jnp.round(cos * x - sin * y + (w - 1) / 2).astype(jnp.int32)
        src_y = jnp.round(sin * x + cos * y + (h - 1) / 2).astype(jnp.int32)
        inside = (src_x >= 0) & (src_x < w) & (src_y >= 0) & (src_y < h)
        pulled = image[:, jnp.clip(src_y, 0, h - 1), jnp.clip(src_x, 0, w - 1)]
        return jnp.where(inside[None], pulled, fill_values)

    return jax.vmap(one)(images, jnp.asarray(degrees, jnp.float32))


def random_rotation(key: Array, images: Array, max_degrees: float, fill: Fill = 0.0) -> Array:
    """Rotate each image by an angle drawn uniformly from [-max_degrees, max_degrees]
    (torchvision's RandomRotation(max_degrees))."""
    b, _, _, _ = _check_batch(images)
    if not 0.0 <= max_degrees < 180.0 or math.isnan(max_degrees):
        raise ValueError(f"max_degrees must be in [0, 180), found {max_degrees}")
    angles = jax.random.uniform(key, (b,), minval=-max_degrees, maxval=max_degrees)
    return rotate(images, angles, fill)


ROTATION_STREAM = 1
"""Folded into a batch's key for its rotation angles, so that adding a rotation leaves the
crops and flips of the same key as they were."""


def augment_batch(
    key: Array,
    images: Array,
    *,
    padding: int = 0,
    crop: int | None = None,
    flip: bool = False,
    rotation: float = 0.0,
    fill: Fill = 0.0,
) -> Array:
    """A training batch as a task augments it (``pcsearch.catalogue.Augmentation``): a
    padded random crop (`padding`, padded with `fill`) or an unpadded random `crop` x `crop`
    window, then a flip with probability 1/2 when `flip`, then a random rotation of up to
    `rotation` degrees (corners: `fill`). With padding and flip it is exactly ``augment``."""
    crop_key, flip_key = jax.random.split(key)
    if padding:
        images = random_crop(crop_key, images, padding, fill)
    if crop is not None:
        images = random_crop_to(crop_key, images, crop)
    if flip:
        images = random_flip(flip_key, images, 0.5)
    if rotation:
        images = random_rotation(jax.random.fold_in(key, ROTATION_STREAM), images, rotation, fill)
    return images


def augment_with(key: Array, images: Array, augmentation: Augmentation) -> Array:
    """``augment_batch`` as ``augmentation`` says, filling with its data set's black (bind
    the task's data set first: ``Augmentation.for_dataset``)."""
    return augment_batch(
        key,
        images,
        padding=augmentation.padding,
        crop=augmentation.crop,
        flip=augmentation.flip,
        rotation=augmentation.rotation,
        fill=fill_of(augmentation),
    )


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
