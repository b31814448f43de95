"""A task's data on the device, whole: real files, or synthetic data of the same shapes.

Synthetic data (random inputs and labels with the dataset's shapes) is for timing and
smoke runs like the paper's Fig. 8, where no file is at hand; every result made from it
says so. ``max_batches`` cuts the training set (and the test set) to that many batches.
``test_crop`` centre-crops the test images once, here, for tasks whose models see crops
(Tiny ImageNet: 56 of 64); the training images stay whole for the random crops.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import jax
import jax.numpy as jnp

from pcsearch.catalogue import DATASET_SHAPES
from pcsearch.data import load_dataset
from pcsearch.data.datasets import clear_cache as clear_host_cache
from pcsearch.errors import PCSearchError

SYNTHETIC_TRAIN, SYNTHETIC_TEST = 4096, 1024


@dataclass(frozen=True)
class DeviceData:
    x_train: jax.Array
    """[N, *input shape]."""
    y_train: jax.Array
    """One-hot."""
    x_test: jax.Array
    labels_test: jax.Array
    num_classes: int
    synthetic: bool = False


def _center(images, crop: int | None):
    """The central crop x crop window of [N, C, H, W] images (numpy or JAX): a slice."""
    if crop is None:
        return images
    h, w = images.shape[-2:]
    if not 0 < crop <= min(h, w):
        raise PCSearchError(f"cannot centre-crop {h}x{w} test images to {crop}x{crop}")
    top, left = (h - crop) // 2, (w - crop) // 2
    return images[..., top : top + crop, left : left + crop]


@cache
def _real(dataset: str, data_dir: str | None, test_crop: int | None = None) -> DeviceData:
    d = load_dataset(dataset, data_dir)
    on_device = DeviceData(
        x_train=jnp.asarray(d.x_train, jnp.float32),
        y_train=jax.nn.one_hot(jnp.asarray(d.y_train), d.num_classes, dtype=jnp.float32),
        x_test=jnp.asarray(_center(d.x_test, test_crop), jnp.float32),
        labels_test=jnp.asarray(d.y_test, jnp.int32),
        num_classes=d.num_classes,
    )
    clear_host_cache()  # the device copy is the one kept; MNIST twice costs ~190 MB
    return on_device


@cache
def _synthetic(dataset: str, test_crop: int | None = None) -> DeviceData:
    shape, classes = DATASET_SHAPES[dataset]
    kx, ky, kt, kl = jax.random.split(jax.random.PRNGKey(0), 4)
    labels = jax.random.randint(ky, (SYNTHETIC_TRAIN,), 0, classes)
    return DeviceData(
        x_train=jax.random.normal(kx, (SYNTHETIC_TRAIN, *shape), jnp.float32),
        y_train=jax.nn.one_hot(labels, classes, dtype=jnp.float32),
        x_test=_center(jax.random.normal(kt, (SYNTHETIC_TEST, *shape), jnp.float32), test_crop),
        labels_test=jax.random.randint(kl, (SYNTHETIC_TEST,), 0, classes),
        num_classes=classes,
        synthetic=True,
    )


def device_data(
    dataset: str,
    data_dir: str | None,
    *,
    synthetic: bool = False,
    batch_size: int,
    max_batches: int | None = None,
    test_crop: int | None = None,
) -> DeviceData:
    data = _synthetic(dataset, test_crop) if synthetic else _real(dataset, data_dir, test_crop)
    if max_batches is None:
        return data
    if max_batches < 1:
        raise PCSearchError(f"max_batches={max_batches} must be at least 1")
    n = max_batches * batch_size
    return replace(
        data,
        x_train=data.x_train[:n],
        y_train=data.y_train[:n],
        x_test=data.x_test[:n],
        labels_test=data.labels_test[:n],
    )
