"""CIFAR-10 and CIFAR-100 from the standard "python version" archives.

The archive `<root>/cifar10/cifar-10-python.tar.gz` (or `cifar100/cifar-100-python.tar.gz`)
is downloaded once (md5-checked) when missing and read in place: nothing is extracted,
so the data folder stays as small as the download and may be read-only. Like the IDX sets,
an archive already on disk is trusted only after parsing, not by its md5.

The batches inside are pickles, and unpickling an untrusted file can run any code it names.
They are read with an unpickler that resolves only the three numpy globals an array needs,
so a tampered archive fails with DataFormatError instead of executing anything.
"""

from __future__ import annotations

import functools
import gzip
import io
import pickle
import tarfile
import zlib
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pcsearch.data.download import DataFile, DataFiles, download
from pcsearch.errors import DataFormatError, DataUnavailableError, UnknownNameError

CifarName = Literal["cifar10", "cifar100"]
CifarArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]

ARCHIVES: dict[str, str] = {
    "cifar10": "cifar-10-python.tar.gz",
    "cifar100": "cifar-100-python.tar.gz",
}
MD5: dict[str, str] = {
    "cifar10": "c58f30108f718f92721af3b95e74349a",
    "cifar100": "eb9058c3a382ffc7106e4002c42a8d85",
}
# Tried in order; each entry is the archive's full URL.
MIRRORS: dict[str, tuple[str, ...]] = {
    "cifar10": ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    "cifar100": ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
}
# Archive members of each split, and the pickle key that holds the labels.
MEMBERS: dict[str, dict[str, tuple[str, ...]]] = {
    "cifar10": {
        "train": tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)),
        "test": ("cifar-10-batches-py/test_batch",),
    },
    "cifar100": {"train": ("cifar-100-python/train",), "test": ("cifar-100-python/test",)},
}
LABEL_KEY: dict[str, bytes] = {"cifar10": b"labels", "cifar100": b"fine_labels"}
NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100}
# Paper, Table 6: per-channel (R, G, B) mean and std applied after x/255.
MEAN: dict[str, tuple[float, float, float]] = {
    "cifar10": (0.4914, 0.4822, 0.4465),
    "cifar100": (0.5071, 0.4867, 0.4408),
}
STD: dict[str, tuple[float, float, float]] = {
    "cifar10": (0.2023, 0.1994, 0.2010),
    "cifar100": (0.2675, 0.2565, 0.2761),
}

_SHAPE = (3, 32, 32)
_ROW = 3 * 32 * 32
# Same name as pcsearch.data.datasets.DATA_DIR_ENV; not imported so that datasets may import us.
_DATA_DIR_ENV = "PCSEARCH_DATA_DIR"


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The only globals a pickled numpy array needs, under their numpy 1 and numpy 2 names."""
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.26
        from numpy.core.multiarray import _reconstruct
    return {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class _ArrayUnpickler(pickle.Unpickler):
    """Refuses every global except those that rebuild a numpy array."""

    _allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name}: a CIFAR batch holds only numpy arrays"
            ) from None


def _bad(path: Path, problem: str) -> DataFormatError:
    return DataFormatError(
        f"{path}: {problem}. Delete {path} so that it is downloaded again, "
        "or replace it with a good copy of the standard archive."
    )


def load_cifar(name: CifarName, root: str | Path, *, normalise: bool = True) -> CifarArrays:
    """(x_train, y_train, x_test, y_test, num_classes) from `<root>/<name>/`.

    x_* are float32 [N, 3, 32, 32], channels first, normalised per channel with the paper's
    Table 6 values (with ``normalise`` False: x/255 in [0, 1], what the paper's autoencoders
    see); y_* are int32 [N]. The arrays are read-only: they are cached in memory
    per process and shared by every caller. Raises UnknownNameError, DataUnavailableError
    (missing and cannot be downloaded) or DataFormatError (the archive is damaged).
    """
    if name not in ARCHIVES:
        raise UnknownNameError(f"unknown CIFAR set {name!r}; choose one of: {', '.join(ARCHIVES)}")
    return _load(name, str(Path(root).expanduser().resolve()), normalise)


def clear_cache() -> None:
    """Forget the in-memory copies, e.g. after replacing an archive on disk."""
    _load.cache_clear()


@functools.lru_cache(maxsize=2)
def _load(name: str, root: str, normalise: bool = True) -> CifarArrays:
    path = _ensure_archive(name, Path(root) / name)
    raw = _read_members(path, [m for split in MEMBERS[name].values() for m in split])
    splits = []
    for members in MEMBERS[name].values():
        parts = [_parse_batch(path, m, raw[m], LABEL_KEY[name], NUM_CLASSES[name]) for m in members]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        scaled = _normalise(images, name) if normalise else _unit(images)
        splits += [_readonly(scaled), _readonly(labels)]
    x_tr, y_tr, x_te, y_te = splits
    return x_tr, y_tr, x_te, y_te, NUM_CLASSES[name]


def data_files(name: str) -> DataFiles:
    """The archive of "cifar10" or "cifar100" with its URLs and md5, read at call time (so a
    patched ``MIRRORS`` or ``MD5`` is seen)."""
    return DataFiles(name, (DataFile(ARCHIVES[name], MIRRORS[name], MD5[name]),))


def _ensure_archive(name: str, folder: Path) -> Path:
    """Download the archive when missing; say exactly what to put where when we cannot."""
    (archive,) = data_files(name).files
    file = archive.name
    path = folder / file
    if path.is_file():
        return path
    hint = (
        f"To fix, copy the standard archive {file} (as downloaded, not extracted) into "
        f"{folder}, or set {_DATA_DIR_ENV} (or pass data_dir) to a folder whose {name}/ "
        "subfolder holds it."
    )
    try:
        return download(archive.urls, path, md5=archive.md5, hint=hint)
    except OSError as err:  # e.g. the folder is not writable
        raise DataUnavailableError(f"cannot save {file} into {folder}: {err}. {hint}") from err


def _read_members(path: Path, wanted: list[str]) -> dict[str, bytes]:
    """Bytes of the wanted regular-file members, in one pass over the gzip stream."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    f = tar.extractfile(member)
                    assert f is not None  # a regular file always has content
                    found[member.name] = f.read()
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise _bad(
            path,
            f"expected a complete tar.gz archive, found a corrupt or truncated one "
            f"({type(err).__name__}: {err})",
        ) from err
    missing = [m for m in wanted if m not in found]
    if missing:
        raise _bad(path, f"archive lacks the member(s) {', '.join(missing)}")
    return found


def _parse_batch(
    path: Path, member: str, data: bytes, label_key: bytes, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one batch safely and check its images and labels."""
    where = f"member {member}"
    try:
        batch = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as err:  # any failure of a damaged pickle, refused globals included
        raise _bad(
            path, f"{where} is not a valid CIFAR pickle ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise _bad(
            path, f"{where}: expected a dict with keys b'data' and {label_key!r}, found {keys}"
        )
    images, labels = batch[b"data"], batch[label_key]
    if not (
        isinstance(images, np.ndarray)
        and images.dtype == np.uint8
        and images.ndim == 2
        and images.shape[1] == _ROW
    ):
        found = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images)
        raise _bad(path, f"{where}: expected uint8 data of shape [N, {_ROW}], found {found}")
    try:
        labels = np.asarray(labels)
    except (TypeError, ValueError) as err:
        raise _bad(path, f"{where}: labels are not a flat list of integers ({err})") from err
    if (
        labels.ndim != 1
        or len(labels) != len(images)
        or (labels.size and labels.dtype.kind not in "iu")
    ):
        raise _bad(
            path,
            f"{where}: expected {len(images)} integer labels, found {labels.dtype} {labels.shape}",
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels.min()) if labels.min() < 0 else int(labels.max())
        raise _bad(path, f"{where}: expected labels 0..{num_classes - 1}, found label {bad}")
    return images.reshape(len(images), *_SHAPE), labels.astype(np.int32)


def _normalise(images: np.ndarray, name: str) -> np.ndarray:
    """(x/255 - mean)/std per channel through a [3, 256] lookup table: exactly the float32
    arithmetic, in one pass over CIFAR's 150 million training values."""
    levels = np.arange(256, dtype=np.float32) / np.float32(255)
    mean = np.asarray(MEAN[name], dtype=np.float32)[:, None]
    std = np.asarray(STD[name], dtype=np.float32)[:, None]
    lut = (levels[None, :] - mean) / std
    out = np.empty(images.shape, dtype=np.float32)
    for c in range(_SHAPE[0]):
        out[:, c] = lut[c][images[:, c]]
    return out


def _unit(images: np.ndarray) -> np.ndarray:
    """x/255 in [0, 1], through a 256-entry lookup table."""
    return (np.arange(256, dtype=np.float32) / np.float32(255))[images]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
