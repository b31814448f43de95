"""IDX parsing on tiny files written here, plain and gzip-compressed, good and damaged."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from pcsearch.data.idx import parse_idx, read_idx
from pcsearch.errors import DataFormatError, PCSearchError

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode an array as IDX by hand, independently of the reader under test."""
    big = arr.astype(arr.dtype.newbyteorder(">"))
    header = bytes([0, 0, _CODES[big.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + big.tobytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_images_round_trip(tmp_path: Path, name: str) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    got = read_idx(write(tmp_path / name, idx_bytes(images)))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, images)


@pytest.mark.parametrize("name", ["labels-idx1-ubyte", "labels-idx1-ubyte.gz"])
def test_labels_round_trip(tmp_path: Path, name: str) -> None:
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.uint8)
    got = read_idx(write(tmp_path / name, idx_bytes(labels)))
    np.testing.assert_array_equal(got, labels)
    assert got.shape == (8,)


@pytest.mark.parametrize("dtype", [">i4", ">f4"])
def test_wider_types_come_back_in_native_order(dtype: str) -> None:
    arr = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    got = parse_idx(idx_bytes(arr))
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_empty_array_is_valid() -> None:
    got = parse_idx(idx_bytes(np.zeros((0, 28, 28), dtype=np.uint8)))
    assert got.shape == (0, 28, 28)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_body_names_path_counts_and_fix(tmp_path: Path, suffix: str) -> None:
    data = idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8))
    path = write(tmp_path / f"train-images-idx3-ubyte{suffix}", data[:-100])
    with pytest.raises(DataFormatError) as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "truncated" in msg and "7840 items" in msg and "7740 items" in msg
    assert "Delete" in msg and "downloaded again" in msg
    assert isinstance(info.value, PCSearchError)


def test_overlong_body_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "x-idx1-ubyte", idx_bytes(np.arange(4, dtype=np.uint8)) + b"\0")
    with pytest.raises(DataFormatError, match="overlong"):
        read_idx(path)


def test_truncated_header_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "x-idx3-ubyte", bytes([0, 0, 8, 3, 0, 0, 0]))
    with pytest.raises(DataFormatError, match="truncated IDX header") as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "magic",
    [b"\x1f\x8b\x08\x00", b"\x00\x01\x08\x01", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00", b"ab"],
)
def test_wrong_magic_says_expected_and_found(tmp_path: Path, magic: bytes) -> None:
    path = write(tmp_path / "labels-idx1-ubyte", magic + b"\0" * 12)
    with pytest.raises(DataFormatError) as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg and "expected" in msg and "found" in msg and "Delete" in msg


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    data = gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32).astype(">i4")))
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value) and "downloaded again" in str(info.value)


def test_gz_name_on_a_file_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(b"<html>Not Found</html>")
    with pytest.raises(DataFormatError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_crc(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8))))
    data[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="gzip"):
        read_idx(path)


def test_missing_file_is_not_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent-idx1-ubyte.gz")
