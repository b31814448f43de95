"""The "-raw" variants the autoencoders read: the same files as MNIST and CIFAR-10, pixels
x/255 in [0, 1] instead of the paper's normalisation (which the discriminative sets keep)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pcsearch.data import DATASETS, cifar, load_dataset
from pcsearch.data import datasets as ds
from tests.data.test_cifar import write_archive
from tests.data.test_datasets import write_tiny_set


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, refused_url: str, no_proxies: None) -> Iterator:
    """Files written here are complete: any download attempt fails at once."""
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    monkeypatch.setitem(ds.MIRRORS, "mnist", (refused_url,))
    monkeypatch.setitem(cifar.MIRRORS, "cifar10", (refused_url,))
    ds.clear_cache()
    yield
    ds.clear_cache()


def test_raw_names_are_registered() -> None:
    assert {"mnist-raw", "fashionmnist-raw", "cifar10-raw", "celeba"} <= set(DATASETS)


def test_mnist_raw_is_unit_pixels_and_mnist_stays_normalised(tmp_path: Path) -> None:
    arrays = write_tiny_set(tmp_path / "mnist")
    raw = load_dataset("mnist-raw", tmp_path)
    images = arrays["train-images-idx3-ubyte.gz"].reshape(6, -1)
    np.testing.assert_array_equal(raw.x_train, images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(raw.y_train, arrays["train-labels-idx1-ubyte.gz"])
    assert raw.name == "mnist-raw" and raw.input_shape == (784,)
    normalised = load_dataset("mnist", tmp_path)
    np.testing.assert_allclose(normalised.x_train, 2 * raw.x_train - 1, atol=1e-6)


def test_cifar10_raw_is_unit_pixels(tmp_path: Path) -> None:
    batches = write_archive(tmp_path, "cifar10")
    raw = load_dataset("cifar10-raw", tmp_path)
    members = cifar.MEMBERS["cifar10"]["train"]
    data = np.concatenate([batches[m][0] for m in members]).reshape(-1, 3, 32, 32)
    np.testing.assert_array_equal(raw.x_train, data.astype(np.float32) / np.float32(255))
    assert raw.name == "cifar10-raw" and raw.input_shape == (3, 32, 32)
    assert load_dataset("cifar10", tmp_path).x_train.min() < 0  # still normalised
