"""Every data set the loaders know loads, from tiny files written here (the bundled sets for
real), with the shape and classes that ``pcsearch.catalogue.DATASETS`` describes: what the
models, the synthetic runs and the OOD checks are built from. Nothing reaches the internet:
a data set whose files are not written here fails with the loader's "missing" message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from pcsearch.catalogue import DATASETS as CATALOGUE
from pcsearch.data import DATASETS, cifar, load_dataset
from pcsearch.data import datasets as ds
from pcsearch.data import tinyimagenet as tin
from tests.data.test_celeba import write_tree
from tests.data.test_cifar import write_archive
from tests.data.test_datasets import write_tiny_set
from tests.data.test_ood_sets import offline as ood_offline
from tests.data.test_ood_sets import write_emnist, write_kmnist, write_notmnist
from tests.data.test_tinyimagenet import fake_files, write_folder

WRITERS: dict[str, Callable[[Path], object]] = {
    "mnist": lambda root: write_tiny_set(root / "mnist"),
    "fashionmnist": lambda root: write_tiny_set(root / "fashionmnist"),
    "cifar10": lambda root: write_archive(root, "cifar10"),
    "cifar100": lambda root: write_archive(root, "cifar100"),
    "tinyimagenet": lambda root: write_folder(root, fake_files()),
    "celeba": write_tree,
    "kmnist": write_kmnist,
    "emnist-letters": write_emnist,
    "notmnist": write_notmnist,
}
"""The files of each format, by the set that reads them (the "-raw", "-parity" and "-ood" sets
read the files of the set they derive from)."""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    for write in WRITERS.values():
        write(root)
    return root


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, refused_url: str, no_proxies: None) -> Iterator:
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    for name in ds.MIRRORS:
        monkeypatch.setitem(ds.MIRRORS, name, (refused_url,))
    for name in cifar.MIRRORS:
        monkeypatch.setitem(cifar.MIRRORS, name, (refused_url,))
    monkeypatch.setattr(tin, "MIRRORS", (refused_url,))
    ood_offline(monkeypatch, refused_url)
    ds.clear_cache()
    yield
    ds.clear_cache()


def test_the_loaders_are_the_catalogues_data_sets() -> None:
    assert sorted(DATASETS) == sorted(CATALOGUE)


@pytest.mark.parametrize("name", DATASETS)
def test_every_data_set_loads_with_the_catalogues_shape_and_classes(
    name: str, data_dir: Path
) -> None:
    info = CATALOGUE[name]
    d = load_dataset(name, data_dir)
    assert d.name == name
    assert d.input_shape == info.shape, f"{name}: loads {d.input_shape}, catalogue {info.shape}"
    assert d.num_classes == info.classes
    for x, y in ((d.x_train, d.y_train), (d.x_test, d.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int32 and len(x) == len(y) > 0
        assert np.all(np.isfinite(x)) and y.min() >= 0 and y.max() < info.classes
