"""Data sets and downloads, on real files in tmp_path and a local HTTP server.

Nothing here reaches the internet: "offline" is a refused port on 127.0.0.1 and a
"mirror" is http.server on 127.0.0.1. Real MNIST comes from ../shared/data when present.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pcsearch.data import DATASETS, Dataset, default_data_dir, load_dataset
from pcsearch.data import datasets as ds
from pcsearch.data.download import download
from pcsearch.errors import DataFormatError, DataUnavailableError, UnknownNameError
from tests.data.conftest import Mirror

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, no_proxies: None) -> Iterator[None]:
    """No proxies (see conftest), no inherited data dir, no stale cache."""
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    ds.clear_cache()
    yield
    ds.clear_cache()


def _idx_gz(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


def write_tiny_set(folder: Path, n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    """Write the four standard files with a few random 28x28 images; return the raw arrays."""
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        (folder / name).write_bytes(_idx_gz(arr))
    return arrays


# ------------------------------------------------------------------------ names, dirs


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_dataset("svhn")
    for name in DATASETS:
        assert name in str(info.value)
    assert isinstance(info.value, KeyError)


def test_importing_the_data_layer_does_not_import_jax() -> None:
    code = "import sys, pcsearch.data; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# ----------------------------------------------------------------- IDX sets on disk


def test_tiny_set_is_normalised_and_flattened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    monkeypatch.setitem(ds.MIRRORS, "mnist", (refused_url,))  # files exist: no download
    raw = write_tiny_set(tmp_path / "mnist")
    d = load_dataset("mnist", tmp_path)
    expected = raw["train-images-idx3-ubyte.gz"].reshape(6, 784).astype(np.float32) / 255 - 0.5
    np.testing.assert_array_equal(d.x_train, expected / 0.5)
    np.testing.assert_array_equal(d.y_train, raw["train-labels-idx1-ubyte.gz"])
    assert d.x_test.shape == (4, 784) and d.y_test.shape == (4,)
    assert (d.x_train.dtype, d.y_train.dtype) == (np.float32, np.int32)
    assert d.num_classes == 10 and d.input_dim == 784 and d.name == "mnist"
    assert not d.x_train.flags.writeable  # shared through the in-memory cache
    assert load_dataset("mnist", tmp_path) is d


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_data_dir() == Path.home() / ".cache" / "pcsearch" / "data"
    write_tiny_set(tmp_path / "fashionmnist")
    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path))
    assert default_data_dir() == tmp_path
    assert load_dataset("fashionmnist").x_train.shape == (6, 784)


def test_image_label_count_mismatch(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    write_tiny_set(folder)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx_gz(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(DataFormatError) as info:
        load_dataset("mnist", tmp_path)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "4 images" in msg and "3 labels" in msg and "Delete" in msg


def test_truncated_file_on_disk_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    write_tiny_set(folder)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-10]))
    with pytest.raises(DataFormatError, match="truncated") as info:
        load_dataset("mnist", tmp_path)
    assert str(path) in str(info.value)


def test_wrong_image_size_and_bad_labels(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    write_tiny_set(folder)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(_idx_gz(np.zeros((4, 32, 32), np.uint8)))
    with pytest.raises(DataFormatError, match=r"\[N, 28, 28\]"):
        load_dataset("mnist", tmp_path)
    write_tiny_set(folder)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(_idx_gz(np.full(6, 10, np.uint8)))
    with pytest.raises(DataFormatError, match="found label 10"):
        load_dataset("mnist", tmp_path)


def test_offline_and_missing_says_where_and_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    monkeypatch.setitem(ds.MIRRORS, "mnist", (refused_url, refused_url + "mirror2/"))
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("mnist", tmp_path / "empty")
    msg = str(info.value)
    assert str((tmp_path / "empty" / "mnist").resolve()) in msg
    for name in ds.IDX_FILES:
        assert name in msg
    assert ds.DATA_DIR_ENV in msg and refused_url in msg
    assert not any(p.is_file() for p in (tmp_path / "empty").rglob("*"))


def test_missing_files_downloaded_from_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Mirror
) -> None:
    url, served = mirror
    raw = write_tiny_set(served)
    md5s = {f: hashlib.md5((served / f).read_bytes()).hexdigest() for f in ds.IDX_FILES}
    monkeypatch.setitem(ds.MIRRORS, "fashionmnist", (url,))
    monkeypatch.setitem(ds.MD5, "fashionmnist", md5s)
    d = load_dataset("fashionmnist", tmp_path / "data")
    np.testing.assert_array_equal(d.y_test, raw["t10k-labels-idx1-ubyte.gz"])
    folder = tmp_path / "data" / "fashionmnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(ds.IDX_FILES)


# ------------------------------------------------------------------------- download()


def test_download_checksum_mismatch_leaves_nothing(tmp_path: Path, mirror: Mirror) -> None:
    url, served = mirror
    (served / "blob.gz").write_bytes(b"not what you expected")
    dest = tmp_path / "out" / "blob.gz"
    with pytest.raises(DataFormatError, match="checksum") as info:
        download([url + "blob.gz"], dest, md5="0" * 32)
    assert str(dest.parent) in str(info.value)
    assert list(dest.parent.iterdir()) == []


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_download_success_verifies_checksum(tmp_path: Path, mirror: Mirror, algorithm: str) -> None:
    url, served = mirror
    content = np.random.default_rng(2).bytes(300_000)
    (served / "blob.gz").write_bytes(content)
    digest = hashlib.new(algorithm, content).hexdigest()
    dest = tmp_path / "out" / "blob.gz"
    assert download([url + "blob.gz"], dest, **{algorithm: digest.upper()}) == dest
    assert dest.read_bytes() == content
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left


def test_download_falls_through_bad_mirrors(
    tmp_path: Path, mirror: Mirror, refused_url: str
) -> None:
    url, served = mirror
    (served / "good").mkdir()
    (served / "good" / "f.gz").write_bytes(b"payload")
    (served / "bad").mkdir()
    (served / "bad" / "f.gz").write_bytes(b"corrupted")
    md5 = hashlib.md5(b"payload").hexdigest()
    urls = [refused_url + "f.gz", url + "absent/f.gz", url + "bad/f.gz", url + "good/f.gz"]
    dest = download(urls, tmp_path / "f.gz", md5=md5)
    assert dest.read_bytes() == b"payload"


def test_download_offline(tmp_path: Path, refused_url: str) -> None:
    with pytest.raises(DataUnavailableError) as info:
        download([refused_url + "f.gz"], tmp_path / "d" / "f.gz", md5="0" * 32, timeout=2)
    assert "f.gz" in str(info.value) and str(tmp_path / "d") in str(info.value)
    assert list((tmp_path / "d").iterdir()) == []


# -------------------------------------------------------------------------- real MNIST

needs_mnist = pytest.mark.skipif(
    not (SHARED_DATA / "mnist").is_dir(), reason=f"real MNIST not found in {SHARED_DATA}/mnist"
)


@needs_mnist
def test_real_mnist() -> None:
    d = load_dataset("mnist", SHARED_DATA)
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert d.y_train.shape == (60000,) and d.y_test.shape == (10000,)
    assert d.x_train.min() == -1.0 and d.x_train.max() == 1.0
    assert d.x_test.min() >= -1.0 and d.x_test.max() <= 1.0
    assert set(np.unique(d.y_train)) == set(range(10)) == set(np.unique(d.y_test))
    assert d.num_classes == 10 and d.input_dim == 784


@needs_mnist
def test_real_mnist_train_labels_content() -> None:
    with gzip.open(SHARED_DATA / "mnist" / "train-labels-idx1-ubyte.gz") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"


# ------------------------------------------------------------------------ bundled sets


@pytest.mark.parametrize(
    ("name", "n_train", "n_test", "dim", "classes"),
    [
        ("digits", 898, 899, 64, 10),
        ("two-moons", 1000, 1000, 2, 2),
        ("two-circles", 1000, 1000, 2, 2),
    ],
)
def test_bundled(name: str, n_train: int, n_test: int, dim: int, classes: int) -> None:
    d = load_dataset(name)
    assert isinstance(d, Dataset) and d.name == name
    assert d.x_train.shape == (n_train, dim) and d.x_test.shape == (n_test, dim)
    assert (d.x_train.dtype, d.y_train.dtype) == (np.float32, np.int32)
    assert d.num_classes == classes and d.input_dim == dim
    assert set(np.unique(d.y_train)) == set(range(classes))
    ds.clear_cache()
    again = load_dataset(name)
    assert again is not d
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, field), getattr(d, field))
    if name == "digits":
        assert d.x_train.min() == -1.0 and d.x_train.max() == 1.0
    else:
        np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(d.x_train.std(axis=0), 1.0, atol=1e-5)


def test_dataset_checks_its_arrays() -> None:
    x, y = np.zeros((3, 2), np.float32), np.zeros(3, np.int32)
    with pytest.raises(ValueError, match="float32"):
        Dataset(x.astype(np.float64), y, x, y, 2, "bad")
    with pytest.raises(ValueError, match="labels"):
        Dataset(x, y[:2], x, y, 2, "bad")
