"""Batch augmentation in JAX: crops and flips per image, reproducible from the key."""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.catalogue import CIFAR_AUGMENTATION, TASKS
from pcsearch.data import cifar, tinyimagenet
from pcsearch.data.augment import (
    augment,
    augment_batch,
    augment_with,
    black_level,
    center_crop,
    fill_of,
    random_crop,
    random_crop_to,
    random_flip,
    random_rotation,
    rotate,
)

B, C, H, W = 16, 3, 8, 10


@pytest.fixture(scope="module")
def images() -> jax.Array:
    """Distinct, non-zero pixel values, so every crop and flip is identifiable."""
    return jnp.arange(1, B * C * H * W + 1, dtype=jnp.float32).reshape(B, C, H, W)


def _key(seed: int) -> jax.Array:
    return jax.random.PRNGKey(seed)


def _is_window_of(out: np.ndarray, big: np.ndarray) -> tuple[int, int] | None:
    """The (top, left) at which `out` [C, h, w] equals a window of `big` [C, H', W'], if any."""
    h, w = out.shape[1:]
    for top in range(big.shape[1] - h + 1):
        for left in range(big.shape[2] - w + 1):
            if np.array_equal(big[:, top : top + h, left : left + w], out):
                return top, left
    return None


# ---------------------------------------------------------------------------- random_crop


def test_crop_is_a_window_of_the_zero_padded_image(images: jax.Array) -> None:
    pad = 2
    out = np.asarray(random_crop(_key(0), images, pad))
    assert out.shape == images.shape and out.dtype == images.dtype
    padded = np.pad(np.asarray(images), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    offsets = [_is_window_of(out[i], padded[i]) for i in range(B)]
    assert None not in offsets
    assert len(set(offsets)) > 1  # a random offset per image, not one for the batch
    assert all(0 <= t <= 2 * pad and 0 <= u <= 2 * pad for t, u in offsets)  # type: ignore[misc]


def test_crop_deterministic_per_key(images: jax.Array) -> None:
    a = random_crop(_key(1), images, 4)
    np.testing.assert_array_equal(a, random_crop(_key(1), images, 4))
    assert not np.array_equal(a, random_crop(_key(2), images, 4))


def test_crop_offsets_cover_the_whole_range() -> None:
    """Over many images every offset 0..2p in both directions appears: corners included."""
    one = jnp.arange(1, 10, dtype=jnp.float32).reshape(1, 1, 3, 3)
    out = np.asarray(random_crop(_key(3), jnp.tile(one, (256, 1, 1, 1)), 1))
    padded = np.pad(np.asarray(one[0]), ((0, 0), (1, 1), (1, 1)))
    offsets = {_is_window_of(o, padded) for o in out}
    assert offsets == {(t, u) for t in range(3) for u in range(3)}


def test_padding_zero_is_identity(images: jax.Array) -> None:
    np.testing.assert_array_equal(random_crop(_key(0), images, 0), images)


# ---------------------------------------------------------------------------- random_flip


def test_flip_probability_one_and_zero(images: jax.Array) -> None:
    np.testing.assert_array_equal(random_flip(_key(0), images, 1.0), images[..., ::-1])
    np.testing.assert_array_equal(random_flip(_key(0), images, 0.0), images)


def test_flip_is_per_image(images: jax.Array) -> None:
    many = jnp.tile(images, (8, 1, 1, 1))
    out = np.asarray(random_flip(_key(4), many, 0.5))
    pairs = list(zip(out, np.asarray(many), strict=True))
    flipped = np.array([np.array_equal(o, x[..., ::-1]) for o, x in pairs])
    kept = np.array([np.array_equal(o, x) for o, x in pairs])
    assert np.all(flipped ^ kept)  # each image is either mirrored or untouched
    assert 0.3 < flipped.mean() < 0.7
    np.testing.assert_array_equal(out, random_flip(_key(4), many, 0.5))
    assert not np.array_equal(out, random_flip(_key(5), many, 0.5))


# -------------------------------------------------------------------------------- augment


def test_augment_deterministic_and_shape_preserving(images: jax.Array) -> None:
    a = augment(_key(6), images)
    assert a.shape == images.shape and a.dtype == images.dtype
    np.testing.assert_array_equal(a, augment(_key(6), images))
    assert not np.array_equal(a, augment(_key(7), images))


def test_augment_is_a_crop_then_maybe_a_flip(images: jax.Array) -> None:
    out = np.asarray(augment(_key(8), images, padding=3, flip=0.5))
    padded = np.pad(np.asarray(images), ((0, 0), (0, 0), (3, 3), (3, 3)))
    for o, p in zip(out, padded, strict=True):
        assert _is_window_of(o, p) is not None or _is_window_of(o[..., ::-1], p) is not None


def test_augment_under_jit(images: jax.Array) -> None:
    jitted = jax.jit(augment, static_argnames=("padding",))
    np.testing.assert_array_equal(
        jitted(_key(9), images, padding=4, flip=0.5), augment(_key(9), images, 4, 0.5)
    )
    # A traced flip probability is fine; sizes stay static.
    np.testing.assert_array_equal(
        jitted(_key(9), images, padding=0, flip=jnp.float32(1.0)), images[..., ::-1]
    )


# --------------------------------------------------------------- Tiny ImageNet's crops


def test_center_crop(images: jax.Array) -> None:
    out = center_crop(images, 6)
    np.testing.assert_array_equal(out, images[:, :, 1:7, 2:8])
    np.testing.assert_array_equal(center_crop(images, (H, W)), images)
    big = jnp.zeros((2, 3, 64, 64))
    assert center_crop(big, 56).shape == (2, 3, 56, 56)


def test_random_crop_to_is_a_window_without_padding(images: jax.Array) -> None:
    out = np.asarray(random_crop_to(_key(10), images, 5))
    assert out.shape == (B, C, 5, 5)
    offsets = [_is_window_of(o, x) for o, x in zip(out, np.asarray(images), strict=True)]
    assert None not in offsets and len(set(offsets)) > 1
    np.testing.assert_array_equal(out, random_crop_to(_key(10), images, 5))
    jitted = jax.jit(random_crop_to, static_argnames=("size",))
    np.testing.assert_array_equal(jitted(_key(10), images, size=5), out)
    assert random_crop_to(_key(0), jnp.zeros((2, 3, 64, 64)), 56).shape == (2, 3, 56, 56)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: random_crop(_key(0), x[0], 2), r"\[B, C, H, W\]"),
        (lambda x: random_crop(_key(0), x, -1), "padding"),
        (lambda x: center_crop(x, H + 1), "does not fit"),
        (lambda x: random_crop_to(_key(0), x, 0), "does not fit"),
    ],
)
def test_bad_arguments(images: jax.Array, call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(images)


# ------------------------------------------------------------- a task's augmentation


def test_augment_batch_for_cifar_is_augment(images: jax.Array) -> None:
    np.testing.assert_array_equal(
        augment_batch(_key(11), images, padding=4, flip=True), augment(_key(11), images, 4)
    )
    np.testing.assert_array_equal(augment_batch(_key(11), images), images)  # nothing to do


def test_augment_batch_crops_to_56_deterministically_under_jit() -> None:
    """Tiny ImageNet's training path: random 56x56 windows of 64x64 images, maybe
    mirrored; the same key gives the same batch, jitted or not."""
    big = jnp.arange(4 * 3 * 64 * 64, dtype=jnp.float32).reshape(4, 3, 64, 64)
    jitted = jax.jit(augment_batch, static_argnames=("padding", "crop", "flip"))
    out = np.asarray(jitted(_key(12), big, crop=56, flip=True))
    assert out.shape == (4, 3, 56, 56)
    np.testing.assert_array_equal(out, augment_batch(_key(12), big, crop=56, flip=True))
    np.testing.assert_array_equal(out, jitted(_key(12), big, crop=56, flip=True))
    assert not np.array_equal(out, jitted(_key(13), big, crop=56, flip=True))
    for o, x in zip(out, np.asarray(big), strict=True):
        # pixel values are distinct, so the top-left one locates the window
        flipped = o[0, 0, 0] > o[0, 0, -1]
        window = o[..., ::-1] if flipped else o
        top, left = divmod(int(window[0, 0, 0]) % (64 * 64), 64)
        assert top <= 8 and left <= 8
        np.testing.assert_array_equal(window, x[:, top : top + 56, left : left + 56])


# ------------------------------------------- fill: raw black, as the paper's code pads


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "tinyimagenet"])
def test_black_level_is_what_the_loader_makes_of_a_black_pixel(dataset: str) -> None:
    """The paper's code pads the raw image with 0 and then normalises: the pad holds what
    the loader's own normalisation makes of a black pixel, per channel."""
    black = np.zeros((1, 3, 2, 2), np.uint8)
    if dataset == "tinyimagenet":
        loaded = tinyimagenet._normalise(black)
    else:
        loaded = cifar._normalise(black, dataset)
    assert black_level(dataset) == tuple(float(v) for v in loaded[0, :, 0, 0])
    assert all(v < -1.5 for v in black_level(dataset))  # not 0, the mean colour
    assert black_level("cifar10-raw") == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="_NORMALISATION"):
        black_level("mnist")


def test_the_crops_pad_holds_normalised_black_per_channel() -> None:
    """CIFAR's task augmentation, bound to its data set: every pixel that is not the
    image's own value is its channel's black."""
    images = jnp.full((64, 3, 8, 8), 0.5, jnp.float32)
    augmentation = CIFAR_AUGMENTATION.for_dataset("cifar10")
    out = np.asarray(augment_with(_key(20), images, augmentation))
    assert out.shape == images.shape
    black = np.asarray(black_level("cifar10"), np.float32)
    padded = out != 0.5
    assert padded.any() and (~padded).any()
    channel_black = np.broadcast_to(black[None, :, None, None], out.shape)
    np.testing.assert_array_equal(out[padded], channel_black[padded])
    assert fill_of(replace(augmentation, fill="mean")) == 0.0  # the old pad, by name
    with pytest.raises(ValueError, match="for_dataset"):
        fill_of(CIFAR_AUGMENTATION)  # black of no data set


def test_a_fill_per_channel_must_match_the_channels(images: jax.Array) -> None:
    with pytest.raises(ValueError, match="2 values for images of 3 channels"):
        random_crop(_key(0), images, 2, fill=(1.0, 2.0))


# ------------------------------------------------------ VGG-19's RandomRotation(5)


def _dot(size: int, row: int, col: int) -> jax.Array:
    image = jnp.zeros((1, 1, size, size), jnp.float32)
    return image.at[0, 0, row, col].set(1.0)


def _where(image: jax.Array) -> list[tuple[int, int]]:
    rows, cols = np.nonzero(np.asarray(image[0, 0]))
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


def test_rotate_turns_a_pattern_counter_clockwise_about_the_centre() -> None:
    """A dot 20 pixels right of a 41x41 image's centre: 5 degrees counter-clockwise lifts
    it 20 sin(5°) = 1.7 rows (nearest: 2), -5 lowers it; 90 degrees puts it on top."""
    dot = _dot(41, 20, 40)
    assert _where(rotate(dot, jnp.array([5.0]))) == [(18, 40)]
    assert _where(rotate(dot, jnp.array([-5.0]))) == [(22, 40)]
    assert _where(rotate(dot, jnp.array([90.0]))) == [(0, 20)]
    np.testing.assert_array_equal(rotate(dot, jnp.array([0.0])), dot)


def test_random_rotation_keeps_shapes_and_fills_the_corners_with_black() -> None:
    images = jnp.ones((32, 3, 16, 16), jnp.float32)
    fill = (-1.0, -2.0, -3.0)
    out = np.asarray(random_rotation(_key(21), images, 5.0, fill))
    assert out.shape == images.shape and out.dtype == images.dtype
    filled = out != 1.0
    assert filled.any() and filled.mean() < 0.1  # the corners only
    for c, value in enumerate(fill):
        assert set(np.unique(out[:, c])) <= {1.0, value}
    np.testing.assert_array_equal(out, random_rotation(_key(21), images, 5.0, fill))
    assert not np.array_equal(out, random_rotation(_key(22), images, 5.0, fill))
    np.testing.assert_array_equal(random_rotation(_key(21), images, 0.0), images)


def test_a_rotation_leaves_the_crops_and_flips_of_a_key_alone(images: jax.Array) -> None:
    """The angles come from a stream of their own: with rotation 0 the batch is the one
    pcsearch made before rotations existed, and under jit the same as outside it."""
    kwargs = {"padding": 2, "flip": True}
    np.testing.assert_array_equal(
        augment_batch(_key(23), images, **kwargs, rotation=0.0),
        augment_batch(_key(23), images, **kwargs),
    )
    jitted = jax.jit(augment_batch, static_argnames=("padding", "crop", "flip", "rotation"))
    rotated = jitted(_key(23), images, flip=True, rotation=5.0)
    assert rotated.shape == images.shape
    np.testing.assert_array_equal(rotated, augment_batch(_key(23), images, flip=True, rotation=5.0))


def test_only_the_vgg19_tasks_rotate() -> None:
    """Appendix E's scripts rotate by up to 5 degrees; no other task of the paper does."""
    rotating = {name for name, task in TASKS.items() if task.augmentation.rotation}
    assert rotating == {"vgg19-cifar10", "vgg19skip-cifar10"}
    for name in rotating:
        augmentation = TASKS[name].augmentation
        assert augmentation.rotation == 5.0 and augmentation.flip
        assert augmentation.padding == 0 and augmentation.crop is None
    assert all(t.augmentation.fill == "black" for t in TASKS.values())
