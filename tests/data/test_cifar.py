"""CIFAR-10/100 loading on tiny fake archives written here, with the real member names and
the real (Python 2, protocol 2) pickle layout; nothing reaches the internet."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pcsearch.data import cifar
from pcsearch.data.cifar import load_cifar
from pcsearch.errors import DataFormatError, DataUnavailableError, UnknownNameError
from tests.data.conftest import Mirror

PAPER_MEAN = {"cifar10": (0.4914, 0.4822, 0.4465), "cifar100": (0.5071, 0.4867, 0.4408)}
PAPER_STD = {"cifar10": (0.2023, 0.1994, 0.2010), "cifar100": (0.2675, 0.2565, 0.2761)}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, no_proxies: None) -> Iterator[None]:
    """No proxies (see conftest), no stale in-memory cache."""
    cifar.clear_cache()
    yield
    cifar.clear_cache()


# ------------------------------------------------------------- fake archives, by hand


def _string(b: bytes) -> bytes:
    """A Python 2 `str` (SHORT_BINSTRING / BINSTRING): what the official batches hold."""
    return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b


def _int(i: int) -> bytes:
    return b"K" + bytes([i]) if 0 <= i < 256 else b"J" + struct.pack("<i", i)


def _py2_array(a: np.ndarray) -> bytes:
    """A uint8 array pickled the way numpy 1.x under Python 2 did (the official files)."""
    shape = b"(" + b"".join(_int(n) for n in a.shape) + b"t"
    dtype = (
        b"cnumpy\ndtype\n" + _string(b"u1") + _int(0) + _int(1) + b"\x87R"
        b"(" + _int(3) + _string(b"|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb"
    )
    return (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        + _int(0)
        + b"\x85"
        + _string(b"b")
        + b"\x87R("
        + _int(1)
        + shape
        + dtype
        + b"\x89"
        + _string(a.tobytes())
        + b"tb"
    )


def py2_pickle(batch: dict[bytes, np.ndarray | list[int] | bytes]) -> bytes:
    """A protocol-2 pickle of a dict of bytes keys, written opcode by opcode."""
    out = b"\x80\x02}("
    for key, value in batch.items():
        out += _string(key)
        if isinstance(value, np.ndarray):
            out += _py2_array(value)
        elif isinstance(value, list):
            out += b"](" + b"".join(_int(v) for v in value) + b"e"
        else:
            out += _string(value)
    return out + b"u."


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_batches(name: str, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Raw (uint8 [N, 3072] data, labels) per member; CIFAR-10 batches hold 2-4 images."""
    rng = np.random.default_rng(seed)
    classes = cifar.NUM_CLASSES[name]
    sizes = (
        dict(zip(cifar.MEMBERS[name]["train"], (2, 3, 2, 4, 3), strict=True))
        | {cifar.MEMBERS[name]["test"][0]: 4}
        if name == "cifar10"
        else {cifar.MEMBERS[name]["train"][0]: 6, cifar.MEMBERS[name]["test"][0]: 3}
    )
    batches = {}
    for member, n in sizes.items():
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, classes, n)]
        labels[0] = classes - 1  # the top label is valid
        batches[member] = (data, labels)
    return batches


def encode(name: str, data: np.ndarray, labels: list[int]) -> bytes:
    if name == "cifar10":
        return py2_pickle({b"batch_label": b"fake", b"labels": labels, b"data": data})
    coarse = [v // 5 for v in labels]
    return py2_pickle({b"fine_labels": labels, b"coarse_labels": coarse, b"data": data})


def write_archive(root: Path, name: str, seed: int = 0) -> dict[str, tuple[np.ndarray, list]]:
    batches = fake_batches(name, seed)
    members = {m: encode(name, d, y) for m, (d, y) in batches.items()}
    write_tar(root / name / cifar.ARCHIVES[name], members)
    return batches


def archive_path(root: Path, name: str) -> Path:
    return root / name / cifar.ARCHIVES[name]


# ------------------------------------------------------------------------- good files


def test_hand_written_pickle_is_what_numpy_reads() -> None:
    a = np.arange(12, dtype=np.uint8).reshape(2, 6)
    got = pickle.loads(py2_pickle({b"data": a, b"labels": [3, 300]}), encoding="bytes")
    np.testing.assert_array_equal(got[b"data"], a)
    assert got[b"labels"] == [3, 300]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_tiny_archive_shapes_labels_and_normalisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str, name: str
) -> None:
    monkeypatch.setitem(cifar.MIRRORS, name, (refused_url,))  # the file exists: no download
    batches = write_archive(tmp_path, name)
    train = [batches[m] for m in cifar.MEMBERS[name]["train"]]
    test = [batches[m] for m in cifar.MEMBERS[name]["test"]]
    raw_tr = np.concatenate([d for d, _ in train])
    x_tr, y_tr, x_te, y_te, k = load_cifar(name, tmp_path)

    n_tr, n_te = len(raw_tr), sum(len(d) for d, _ in test)
    assert x_tr.shape == (n_tr, 3, 32, 32) and x_te.shape == (n_te, 3, 32, 32)
    assert y_tr.shape == (n_tr,) and y_te.shape == (n_te,)
    assert (x_tr.dtype, y_tr.dtype, x_te.dtype, y_te.dtype) == (np.float32, np.int32) * 2
    assert k == {"cifar10": 10, "cifar100": 100}[name]
    np.testing.assert_array_equal(y_tr, np.concatenate([y for _, y in train]))
    np.testing.assert_array_equal(y_te, np.concatenate([y for _, y in test]))

    mean = np.array(PAPER_MEAN[name], np.float32)[None, :, None, None]
    std = np.array(PAPER_STD[name], np.float32)[None, :, None, None]
    expected = (raw_tr.reshape(n_tr, 3, 32, 32).astype(np.float32) / 255 - mean) / std
    np.testing.assert_allclose(x_tr, expected, rtol=0, atol=1e-6)
    assert not x_tr.flags.writeable and not y_te.flags.writeable  # shared through the cache
    assert load_cifar(name, tmp_path)[0] is x_tr


def test_rows_are_red_green_blue_planes(tmp_path: Path) -> None:
    """Each 3072-byte row is 1024 R, then G, then B, each row-major 32x32."""
    data = np.zeros((2, 3072), np.uint8)
    data[1, 1024 + 5 * 32 + 7] = 255  # green, row 5, column 7 of the second image
    data[0, 2 * 1024 + 31] = 255  # blue, row 0, column 31 of the first image
    members = {m: encode("cifar10", data, [1, 2]) for m in fake_batches("cifar10")}
    write_tar(archive_path(tmp_path, "cifar10"), members)
    x_tr, *_ = load_cifar("cifar10", tmp_path)
    assert x_tr[1, 1, 5, 7] == pytest.approx((1 - 0.4822) / 0.1994)
    assert x_tr[0, 2, 0, 31] == pytest.approx((1 - 0.4465) / 0.2010)
    assert x_tr[0, 0, 0, 0] == pytest.approx(-0.4914 / 0.2023)
    # Zero pixels normalise below 0, 255 above: the bright pixels are exactly where expected.
    assert np.argwhere(x_tr[0] > 0).tolist() == [[2, 0, 31]]
    assert np.argwhere(x_tr[1] > 0).tolist() == [[1, 5, 7]]


def test_modern_numpy_pickles_load_too(tmp_path: Path) -> None:
    batches = fake_batches("cifar100")
    members = {
        m: pickle.dumps({b"data": d, b"fine_labels": y}, protocol=4)
        for m, (d, y) in batches.items()
    }
    write_tar(archive_path(tmp_path, "cifar100"), members)
    _, y_tr, _, _, k = load_cifar("cifar100", tmp_path)
    np.testing.assert_array_equal(y_tr, batches["cifar-100-python/train"][1])
    assert k == 100


def test_unknown_name() -> None:
    with pytest.raises(UnknownNameError, match="cifar10, cifar100"):
        load_cifar("cifar1000", Path("."))  # type: ignore[arg-type]


# ------------------------------------------------------------------ missing and downloads


def test_offline_and_missing_says_where_and_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    monkeypatch.setitem(cifar.MIRRORS, "cifar100", (refused_url + "cifar-100-python.tar.gz",))
    with pytest.raises(DataUnavailableError) as info:
        load_cifar("cifar100", tmp_path / "empty")
    msg = str(info.value)
    assert str((tmp_path / "empty" / "cifar100").resolve()) in msg
    assert "cifar-100-python.tar.gz" in msg and "PCSEARCH_DATA_DIR" in msg and refused_url in msg
    assert not any(p.is_file() for p in (tmp_path / "empty").rglob("*"))


def test_missing_archive_downloaded_from_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Mirror
) -> None:
    url, served = mirror
    batches = write_archive(served, "cifar10")
    file = served / "cifar10" / "cifar-10-python.tar.gz"
    monkeypatch.setitem(
        cifar.MIRRORS, "cifar10", (url + "absent.tar.gz", url + "cifar10/" + file.name)
    )
    monkeypatch.setitem(cifar.MD5, "cifar10", hashlib.md5(file.read_bytes()).hexdigest())
    _, _, _, y_te, _ = load_cifar("cifar10", tmp_path / "data")
    np.testing.assert_array_equal(y_te, batches["cifar-10-batches-py/test_batch"][1])
    assert [p.name for p in (tmp_path / "data" / "cifar10").iterdir()] == [file.name]


def test_download_with_wrong_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Mirror
) -> None:
    url, served = mirror
    write_archive(served, "cifar10")
    monkeypatch.setitem(cifar.MIRRORS, "cifar10", (url + "cifar10/cifar-10-python.tar.gz",))
    with pytest.raises(DataFormatError, match="checksum"):
        load_cifar("cifar10", tmp_path / "data")  # the real md5 does not match the fake
    assert list((tmp_path / "data" / "cifar10").iterdir()) == []


# ---------------------------------------------------------------------- damaged files


def _assert_names_file_and_fix(err: pytest.ExceptionInfo[DataFormatError], path: Path) -> str:
    msg = str(err.value)
    assert str(path) in msg and "Delete" in msg and "downloaded again" in msg
    return msg


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_truncated_archive_names_it(tmp_path: Path, keep: float) -> None:
    write_archive(tmp_path, "cifar10")
    path = archive_path(tmp_path, "cifar10")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)] if keep else b"not a tar.gz at all")
    with pytest.raises(DataFormatError) as info:
        load_cifar("cifar10", tmp_path)
    _assert_names_file_and_fix(info, path)


def test_missing_member_is_named(tmp_path: Path) -> None:
    batches = fake_batches("cifar10")
    del batches["cifar-10-batches-py/data_batch_4"]
    write_tar(
        archive_path(tmp_path, "cifar10"), {m: encode("cifar10", *b) for m, b in batches.items()}
    )
    with pytest.raises(DataFormatError) as info:
        load_cifar("cifar10", tmp_path)
    assert "cifar-10-batches-py/data_batch_4" in _assert_names_file_and_fix(
        info, archive_path(tmp_path, "cifar10")
    )


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, r"[N, 3072]"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "found label 10"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "expected 2 integer labels"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, "b'labels'"),
        ({b"labels": [0]}, "b'data'"),
    ],
)
def test_bad_batch_content(tmp_path: Path, batch: dict, expected: str) -> None:
    members = {m: encode("cifar10", *b) for m, b in fake_batches("cifar10").items()}
    members["cifar-10-batches-py/test_batch"] = py2_pickle(batch)
    write_tar(archive_path(tmp_path, "cifar10"), members)
    with pytest.raises(DataFormatError) as info:
        load_cifar("cifar10", tmp_path)
    msg = _assert_names_file_and_fix(info, archive_path(tmp_path, "cifar10"))
    assert expected in msg and "test_batch" in msg


def test_truncated_pickle_inside_a_good_archive(tmp_path: Path) -> None:
    members = {m: encode("cifar10", *b) for m, b in fake_batches("cifar10").items()}
    members["cifar-10-batches-py/data_batch_3"] = members["cifar-10-batches-py/data_batch_3"][:-40]
    write_tar(archive_path(tmp_path, "cifar10"), members)
    with pytest.raises(DataFormatError) as info:
        load_cifar("cifar10", tmp_path)
    msg = _assert_names_file_and_fix(info, archive_path(tmp_path, "cifar10"))
    assert "data_batch_3 is not a valid CIFAR pickle" in msg


class _Exploit:
    """Unpickling this calls `func(arg)`: what a tampered archive would try."""

    def __init__(self, func: object, arg: str) -> None:
        self.func, self.arg = func, arg

    def __reduce__(self) -> tuple:
        return self.func, (self.arg,)


@pytest.mark.parametrize("which", ["os.system", "builtins.exec"])
def test_forbidden_global_is_refused_and_not_run(tmp_path: Path, which: str) -> None:
    marker = tmp_path / "pwned"
    exploit = (
        _Exploit(os.system, f"touch {marker}")
        if which == "os.system"
        else _Exploit(exec, f"open({str(marker)!r}, 'w').close()")
    )
    # Protocol 4 writes bytes without a helper global, so the exploit's is the first one met.
    payload = pickle.dumps({b"data": exploit, b"labels": [0]}, protocol=4)
    members = {m: encode("cifar10", *b) for m, b in fake_batches("cifar10").items()}
    members["cifar-10-batches-py/data_batch_1"] = payload
    write_tar(archive_path(tmp_path, "cifar10"), members)
    with pytest.raises(DataFormatError) as info:
        load_cifar("cifar10", tmp_path)
    msg = _assert_names_file_and_fix(info, archive_path(tmp_path, "cifar10"))
    func = exploit.func
    assert f"refused global {func.__module__}.{func.__name__}" in msg  # type: ignore[attr-defined]
    assert "data_batch_1" in msg
    assert not marker.exists()
