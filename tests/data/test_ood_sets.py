"""The OOD sets of Appendix F (KMNIST, EMNIST letters, notMNIST, and MNIST / Fashion-MNIST
as the paper's OOD code loads them) on tiny files written here: parsing, the code's
preprocessing, checksummed downloads from a local mirror, caching. Nothing reaches the
internet ("offline" is a refused port; the mirror is http.server on 127.0.0.1)."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pcsearch.data import datasets as ds
from pcsearch.data import emnist, kmnist, load_dataset, notmnist, ood_mnist
from pcsearch.data.fetch import fetch, verify
from pcsearch.errors import DataFormatError, DataUnavailableError
from tests.data.conftest import Mirror
from tests.data.test_datasets import write_tiny_set

RNG_SEED = 3


def idx(arr: np.ndarray) -> bytes:
    """uint8 ``arr`` as an uncompressed IDX file."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def _images(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)


def write_kmnist(root: Path, plain: bool = False) -> dict[str, np.ndarray]:
    """KMNIST's four files (gzip, or uncompressed with ``plain``) with a few images."""
    rng = np.random.default_rng(RNG_SEED)
    arrays = {
        "train-images-idx3-ubyte.gz": _images(rng, 5),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 5, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": _images(rng, 3),
        "t10k-labels-idx1-ubyte.gz": np.array([0, 9, 4], dtype=np.uint8),
    }
    folder = root / kmnist.FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        if plain:
            (folder / name.removesuffix(".gz")).write_bytes(idx(arr))
        else:
            (folder / name).write_bytes(gzip.compress(idx(arr), mtime=0))
    return arrays


EMNIST_LABELS = {"train": [1, 26, 10, 11, 3, 5], "test": [12, 2, 1, 26, 10]}
"""Letters 1..26: the ones in 1..10 (a..j) are kept, shifted to 0..9."""


def emnist_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED + 1)
    out = {}
    for split, labels in EMNIST_LABELS.items():
        out[emnist.member(split, "images")] = _images(rng, len(labels))
        out[emnist.member(split, "labels")] = np.array(labels, dtype=np.uint8)
    return out


def write_emnist_zip(path: Path) -> dict[str, np.ndarray]:
    """NIST's gzip.zip layout: the letters files as gzip/<name>.gz (and a stray member)."""
    arrays = emnist_arrays()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for name, arr in arrays.items():
            z.writestr(f"gzip/{name}", gzip.compress(idx(arr), mtime=0))
        z.writestr("gzip/emnist-letters-mapping.txt", "1 65 97\n")
    return arrays


def write_emnist(root: Path) -> dict[str, np.ndarray]:
    return write_emnist_zip(root / emnist.FOLDER / emnist.ARCHIVE)


def write_notmnist(root: Path, plain: bool = False) -> dict[str, np.ndarray]:
    """notMNIST's two test files; ``plain``: uncompressed, the paper's code's layout."""
    rng = np.random.default_rng(RNG_SEED + 2)
    arrays = {
        "t10k-images-idx3-ubyte.gz": _images(rng, 4),
        "t10k-labels-idx1-ubyte.gz": np.array([3, 0, 9, 1], dtype=np.uint8),
    }
    folder = root / notmnist.FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        if plain:
            (folder / name.removesuffix(".gz")).write_bytes(idx(arr))
        else:
            (folder / name).write_bytes(gzip.compress(idx(arr), mtime=0))
    return arrays


def standardised(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """The code's ToTensor then Normalize, written out (float32 arithmetic, as torch's)."""
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return (x - np.float32(mean)) / np.float32(std)


def _digests(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def serve_kmnist(served: Path, url: str, mp: pytest.MonkeyPatch) -> None:
    """KMNIST's tiny files on the mirror, the loader's URLs and checksums pointed at them."""
    write_kmnist(served)
    folder = served / kmnist.FOLDER
    mp.setattr(kmnist, "MIRRORS", (url + "absent/", url + "kmnist/"))
    mp.setattr(kmnist, "MD5", {f: _digests(folder / f)[0] for f in kmnist.NAMES})
    mp.setattr(kmnist, "SHA256", {f: _digests(folder / f)[1] for f in kmnist.NAMES})


def serve_emnist(served: Path, url: str, mp: pytest.MonkeyPatch) -> None:
    write_emnist(served)
    md5, sha256 = _digests(served / emnist.FOLDER / emnist.ARCHIVE)
    mp.setattr(emnist, "MIRRORS", (url + "absent.zip", url + "emnist/gzip.zip"))
    mp.setattr(emnist, "MD5", md5)
    mp.setattr(emnist, "SHA256", sha256)


def serve_notmnist(served: Path, url: str, mp: pytest.MonkeyPatch) -> None:
    write_notmnist(served)
    folder = served / notmnist.FOLDER
    mp.setattr(notmnist, "MIRRORS", (url + "notmnist/",))
    mp.setattr(notmnist, "MD5", {f: _digests(folder / f)[0] for f in notmnist.NAMES})
    mp.setattr(notmnist, "SHA256", {f: _digests(folder / f)[1] for f in notmnist.NAMES})


def offline(mp: pytest.MonkeyPatch, refused_url: str) -> None:
    """The OOD loaders' mirrors refused: what loads comes from disk only."""
    mp.setattr(kmnist, "MIRRORS", (refused_url,))
    mp.setattr(emnist, "MIRRORS", (refused_url,))
    mp.setattr(notmnist, "MIRRORS", (refused_url,))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, no_proxies: None) -> Iterator[None]:
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    ds.clear_cache()
    yield
    ds.clear_cache()


# ----------------------------------------------------------------- parsing, preprocessing


@pytest.mark.parametrize("plain", [False, True], ids=["gzip", "uncompressed"])
def test_kmnist_is_read_in_file_order_and_normalised_by_the_codes_statistics(
    tmp_path: Path, plain: bool
) -> None:
    arrays = write_kmnist(tmp_path, plain=plain)
    d = load_dataset("kmnist", tmp_path)
    assert d.name == "kmnist" and d.num_classes == 10
    expected = standardised(arrays["t10k-images-idx3-ubyte.gz"], 0.1918, 0.3483)
    np.testing.assert_array_equal(d.x_test, expected)
    np.testing.assert_array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert d.x_train.shape == (5, 784)


def test_emnist_keeps_letters_a_to_j_shifted_and_as_stored(tmp_path: Path) -> None:
    arrays = write_emnist(tmp_path)
    d = load_dataset("emnist-letters", tmp_path)
    for split, x, y in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
        labels = np.array(EMNIST_LABELS[split])
        keep = (labels >= 1) & (labels <= 10)
        np.testing.assert_array_equal(y, labels[keep] - 1)
        images = arrays[emnist.member(split, "images")][keep]  # not transposed
        np.testing.assert_array_equal(x, standardised(images, 0.1722, 0.3309))


def test_emnist_caches_the_letters_and_reads_the_cache_without_the_zip(tmp_path: Path) -> None:
    write_emnist(tmp_path)
    first = load_dataset("emnist-letters", tmp_path)
    folder = tmp_path / emnist.FOLDER
    assert (folder / emnist.CACHE).is_file()
    (folder / emnist.ARCHIVE).unlink()
    ds.clear_cache()
    again = load_dataset("emnist-letters", tmp_path)
    np.testing.assert_array_equal(again.x_test, first.x_test)
    np.testing.assert_array_equal(again.y_train, first.y_train)
    assert [r.status for r in verify("emnist-letters", tmp_path)] == ["present"]


def test_emnist_reads_the_extracted_letters_files_and_names_a_missing_one(tmp_path: Path) -> None:
    arrays = emnist_arrays()
    folder = tmp_path / emnist.FOLDER
    folder.mkdir(parents=True)
    for name, arr in arrays.items():
        (folder / name.removesuffix(".gz")).write_bytes(idx(arr))  # torchvision's raw/
    d = load_dataset("emnist-letters", tmp_path)
    assert d.y_test.tolist() == [1, 0, 9]
    ds.clear_cache()
    (folder / emnist.CACHE).unlink()
    (folder / emnist.member("train", "labels").removesuffix(".gz")).unlink()
    with pytest.raises(DataFormatError, match="emnist-letters-train-labels-idx1-ubyte"):
        load_dataset("emnist-letters", tmp_path)


def test_a_damaged_emnist_zip_is_named_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / emnist.FOLDER / emnist.ARCHIVE
    path.parent.mkdir(parents=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("gzip/other.txt", "no letters here")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(DataFormatError, match="lacks the member gzip/emnist-letters") as err:
        load_dataset("emnist-letters", tmp_path)
    assert "Delete it so that it is downloaded again" in str(err.value)


@pytest.mark.parametrize("plain", [False, True], ids=["gzip", "uncompressed"])
def test_notmnist_test_split_serves_as_both_splits(tmp_path: Path, plain: bool) -> None:
    arrays = write_notmnist(tmp_path, plain=plain)
    d = load_dataset("notmnist", tmp_path)
    expected = standardised(arrays["t10k-images-idx3-ubyte.gz"], 0.4248, 0.4585)
    np.testing.assert_array_equal(d.x_test, expected)
    np.testing.assert_array_equal(d.x_train, expected)
    assert d.y_test.tolist() == [3, 0, 9, 1]


def test_the_codes_training_subset_is_its_numpy_draw() -> None:
    """What OOD_energy.py's utils.get_dataloaders draws after set_random_seed(42):
    add_label_noise(noise_level=0) then the 30,000 training indices."""
    state = np.random.get_state()
    try:
        np.random.seed(42)
        np.random.choice(60_000, 0, replace=False)
        expected = np.random.choice(60_000, size=30_000, replace=False)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(ood_mnist.code_training_subset(60_000), expected)


def test_mnist_ood_is_standardised_and_cut_to_the_codes_subset(tmp_path: Path) -> None:
    raw = write_tiny_set(tmp_path / "mnist", n_train=6, n_test=4)
    write_tiny_set(tmp_path / "fashionmnist", n_train=6, n_test=4)
    d = load_dataset("mnist-ood", tmp_path)
    keep = ood_mnist.code_training_subset(6)
    images = raw["train-images-idx3-ubyte.gz"]
    np.testing.assert_array_equal(d.x_train, standardised(images[keep], 0.1307, 0.3081))
    np.testing.assert_array_equal(d.y_train, raw["train-labels-idx1-ubyte.gz"][keep])
    test = raw["t10k-images-idx3-ubyte.gz"]
    np.testing.assert_array_equal(d.x_test, standardised(test, 0.1307, 0.3081))
    fashion = load_dataset("fashionmnist-ood", tmp_path)
    assert fashion.x_train.shape == (6, 784)  # only MNIST is cut
    assert not np.array_equal(load_dataset("mnist", tmp_path).x_test, d.x_test)  # Table 6's


# ------------------------------------------------------------ downloads and checksums


def test_missing_kmnist_is_downloaded_checked_and_then_read_from_disk(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    url, served = mirror
    serve_kmnist(served, url, monkeypatch)
    data = tmp_path / "data"
    first = load_dataset("kmnist", data)
    for name in kmnist.NAMES:
        assert (data / "kmnist" / name).read_bytes() == (served / "kmnist" / name).read_bytes()
    offline(monkeypatch, refused_url)
    ds.clear_cache()
    np.testing.assert_array_equal(load_dataset("kmnist", data).x_test, first.x_test)
    assert {r.detail for r in verify("kmnist", data)} == {"md5 and sha256 match"}


def test_a_download_with_the_wrong_sha256_is_refused_naming_file_hashes_and_fix(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, served = mirror
    serve_notmnist(served, url, monkeypatch)
    name = notmnist.NAMES[0]
    actual = _digests(served / "notmnist" / name)[1]
    wrong = "0" * 64
    monkeypatch.setitem(notmnist.SHA256, name, wrong)  # the md5 still matches
    with pytest.raises(DataFormatError) as err:
        load_dataset("notmnist", tmp_path / "data")
    message = str(err.value)
    assert name in message and wrong in message and actual in message
    assert "copy a good" in message and "by hand" in message
    assert not (tmp_path / "data" / "notmnist" / name).exists()
    assert not [p for p in (tmp_path / "data" / "notmnist").iterdir() if p.suffix == ".part"]


def test_a_file_without_a_recorded_checksum_is_never_downloaded(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, served = mirror
    serve_notmnist(served, url, monkeypatch)
    monkeypatch.setattr(notmnist, "MD5", {})
    monkeypatch.setattr(notmnist, "SHA256", {})
    folder = tmp_path / "data" / "notmnist"
    with pytest.raises(DataUnavailableError, match="no published checksum") as err:
        load_dataset("notmnist", tmp_path / "data")
    assert url + "notmnist/" in str(err.value) and str(folder) in str(err.value)
    reports = fetch("notmnist", tmp_path / "data")
    assert [r.status for r in reports] == ["failed", "failed"]
    assert all("no published checksum" in r.detail for r in reports)
    assert not folder.exists() or not any(folder.iterdir())


def test_check_names_both_hashes_of_a_damaged_file_and_the_fix(
    tmp_path: Path,
) -> None:
    write_kmnist(tmp_path)
    damaged = tmp_path / "kmnist" / "t10k-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:-9])  # a cut-off download: unreadable
    report = {r.path.name: r for r in verify("kmnist", tmp_path)}
    bad = report["t10k-images-idx3-ubyte.gz"]
    assert bad.status == "corrupt"
    expected_sha = kmnist.SHA256["t10k-images-idx3-ubyte.gz"]
    actual_sha = _digests(tmp_path / "kmnist" / "t10k-images-idx3-ubyte.gz")[1]
    assert expected_sha in bad.detail and actual_sha in bad.detail
    assert "pcsearch data fetch kmnist" in bad.detail


def test_offline_and_missing_says_what_to_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    offline(monkeypatch, refused_url)
    with pytest.raises(DataUnavailableError) as err:
        load_dataset("emnist-letters", tmp_path)
    assert "pcsearch data fetch emnist-letters" in str(err.value)
    assert str(tmp_path / "emnist") in str(err.value)
