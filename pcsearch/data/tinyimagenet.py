"""Tiny ImageNet (200 classes of 64x64 RGB images) from its standard zip or folder.

Looked for in `<root>/tinyimagenet/`, first match wins:

1. `tinyimagenet.npz`, the cache this module writes after the first read (uint8 images
   and labels: decoding 110,000 JPEGs takes a while, loading the cache seconds);
2. `tiny-imagenet-200/`, the extracted folder: `wnids.txt`, `train/<wnid>/images/*.JPEG`,
   `val/images/*.JPEG` and `val/val_annotations.txt`;
3. `tiny-imagenet-200.zip`, read in place (nothing is extracted), downloaded (md5-checked)
   when missing.

The labelled validation split is the test set, as in the paper's code; classes are the
wnids in sorted order. Images are normalised with Table 6's mean and std after x/255.
A cache that cannot be written (read-only folder) is skipped silently; a damaged one is
reported: delete it and it is rebuilt from the zip or folder.
"""

from __future__ import annotations

import functools
import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pcsearch.data.cache import write_npz
from pcsearch.data.download import DataFile, DataFiles, download
from pcsearch.errors import DataFormatError, DataUnavailableError

FOLDER = "tiny-imagenet-200"
ARCHIVE = "tiny-imagenet-200.zip"
CACHE = "tinyimagenet.npz"
MD5 = "90528d7ca1a48142e341f4ef8d21d0de"
MIRRORS: tuple[str, ...] = ("http://cs231n.stanford.edu/tiny-imagenet-200.zip",)
NUM_CLASSES = 200
SIZE = 64
# Paper, Table 6: per-channel (R, G, B) mean and std applied after x/255.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

TinyArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]
_DATA_DIR_ENV = "PCSEARCH_DATA_DIR"  # as pcsearch.data.datasets.DATA_DIR_ENV
_CACHE_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_tinyimagenet(root: str | Path) -> TinyArrays:
    """(x_train, y_train, x_test, y_test, 200) from `<root>/tinyimagenet/`.

    x_* float32 [N, 3, 64, 64] normalised, y_* int32 [N]; read-only and cached in memory
    per process. Raises DataUnavailableError (nothing there and no download) or
    DataFormatError (a damaged zip, folder or cache).
    """
    return _load(str(Path(root).expanduser().resolve()))


def clear_cache() -> None:
    _load.cache_clear()


@functools.lru_cache(maxsize=1)
def _load(root: str) -> TinyArrays:
    folder = Path(root) / "tinyimagenet"
    cache = folder / CACHE
    if cache.is_file():
        raw = _read_cache(cache)
    else:
        src = _source(folder)
        try:
            raw = _read_images(src)
        finally:
            src.close()
        _write_cache(cache, raw)
    x_tr, y_tr, x_te, y_te = raw
    return _normalise(x_tr), _readonly(y_tr), _normalise(x_te), _readonly(y_te), NUM_CLASSES


def data_files() -> DataFiles:
    """The zip with its URLs and md5 (read at call time, so a patched ``MIRRORS`` or ``MD5``
    is seen); the cache or the extracted folder, when there, is read in its place."""
    return DataFiles("tinyimagenet", (DataFile(ARCHIVE, MIRRORS, MD5, instead=(CACHE, FOLDER)),))


# ----------------------------------------------------------------------------- sources


class _Folder:
    """The extracted tree; paths are relative to `tiny-imagenet-200/`."""

    def __init__(self, base: Path) -> None:
        self.base, self.where = base, str(base)

    def close(self) -> None:
        pass

    def text(self, rel: str) -> str:
        path = self.base / rel
        if not path.is_file():
            raise _bad(self.where, f"lacks {rel}")
        return path.read_text(encoding="utf-8")

    def images(self, rel_dir: str) -> Iterator[tuple[str, bytes]]:
        folder = self.base / rel_dir
        for path in sorted(folder.glob("*.JPEG")) if folder.is_dir() else ():
            yield path.name, path.read_bytes()


class _Zip:
    """The standard archive, read in place."""

    def __init__(self, path: Path) -> None:
        self.where = str(path)
        try:
            self.zip = zipfile.ZipFile(path)
            names = self.zip.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise _bad(self.where, f"is not a readable zip archive ({err})") from err
        self.folders: dict[str, list[str]] = {}  # member folder -> file names, sorted
        for name in sorted(names):
            folder, _, file = name.rpartition("/")
            if file:
                self.folders.setdefault(folder, []).append(file)

    def close(self) -> None:
        self.zip.close()

    def _read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
            raise _bad(self.where, f"member {name} is damaged ({err})") from err

    def text(self, rel: str) -> str:
        folder, _, file = f"{FOLDER}/{rel}".rpartition("/")
        if file not in self.folders.get(folder, ()):
            raise _bad(self.where, f"lacks the member {folder}/{file}")
        return self._read(f"{folder}/{file}").decode("utf-8")

    def images(self, rel_dir: str) -> Iterator[tuple[str, bytes]]:
        folder = f"{FOLDER}/{rel_dir}"
        for file in self.folders.get(folder, ()):
            if file.endswith(".JPEG"):
                yield file, self._read(f"{folder}/{file}")


def _source(folder: Path) -> _Folder | _Zip:
    """The extracted folder if there is one, else the zip (downloaded if need be)."""
    if (folder / FOLDER).is_dir():
        return _Folder(folder / FOLDER)
    (archive,) = data_files().files
    path = folder / archive.name
    if not path.is_file():
        hint = (
            f"To fix, copy the standard {ARCHIVE} (as downloaded) into {folder}, or its "
            f"extracted {FOLDER}/ folder (wnids.txt, train/<wnid>/images/*.JPEG, "
            f"val/images/*.JPEG, val/val_annotations.txt), or set {_DATA_DIR_ENV} (or pass "
            "data_dir) to a folder whose tinyimagenet/ subfolder holds one of them."
        )
        try:
            download(archive.urls, path, md5=archive.md5, hint=hint)
        except OSError as err:  # e.g. the folder is not writable
            raise DataUnavailableError(
                f"cannot save {ARCHIVE} into {folder}: {err}. {hint}"
            ) from err
    return _Zip(path)


# ------------------------------------------------------------------------------ reading


def _read_images(src: _Folder | _Zip) -> tuple[np.ndarray, ...]:
    wnids = sorted(set(src.text("wnids.txt").split()))
    if not wnids:
        raise _bad(src.where, "wnids.txt lists no classes")
    index = {w: i for i, w in enumerate(wnids)}
    train_x, train_y = [], []
    for wnid in wnids:
        for name, data in src.images(f"train/{wnid}/images"):
            train_x.append(_decode(src.where, name, data))
            train_y.append(index[wnid])
    annotations = {}
    for line in src.text("val/val_annotations.txt").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            annotations[fields[0]] = fields[1]
    test_x, test_y = [], []
    for name, data in src.images("val/images"):
        wnid = annotations.get(name)
        if wnid not in index:
            raise _bad(src.where, f"val/images/{name} has no known class in val_annotations.txt")
        test_x.append(_decode(src.where, name, data))
        test_y.append(index[wnid])
    if not train_x or not test_x:
        raise _bad(src.where, f"holds {len(train_x)} training and {len(test_x)} validation images")
    return (np.stack(train_x), np.asarray(train_y, np.int32),
            np.stack(test_x), np.asarray(test_y, np.int32))  # fmt: skip


def _decode(where: str, name: str, data: bytes) -> np.ndarray:
    """One JPEG as uint8 [3, 64, 64]; grey images (a few in the set) become RGB."""
    from PIL import Image, UnidentifiedImageError  # only needed when decoding

    try:
        with Image.open(io.BytesIO(data)) as image:
            array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise _bad(where, f"{name} is not a readable JPEG ({err})") from err
    if array.shape != (SIZE, SIZE, 3):
        raise _bad(where, f"{name} is {array.shape[1]}x{array.shape[0]}, expected 64x64")
    return array.transpose(2, 0, 1)


def _read_cache(path: Path) -> tuple[np.ndarray, ...]:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = tuple(f[k] for k in _CACHE_KEYS)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DataFormatError(
            f"{path}: the Tiny ImageNet cache is damaged ({type(err).__name__}: {err}). "
            "Delete it; the next load rebuilds it from the zip or folder beside it."
        ) from err
    x_tr, y_tr, x_te, y_te = arrays
    ok = all(
        x.dtype == np.uint8 and x.shape[1:] == (3, SIZE, SIZE) and y.dtype == np.int32
        and y.shape == (len(x),) and (y.size == 0 or 0 <= y.min() <= y.max() < NUM_CLASSES)
        for x, y in ((x_tr, y_tr), (x_te, y_te))
    )  # fmt: skip
    if not ok:
        raise DataFormatError(
            f"{path}: not a Tiny ImageNet cache of uint8 [N, 3, 64, 64] images and int32 "
            "labels. Delete it; the next load rebuilds it from the zip or folder beside it."
        )
    return arrays


def _write_cache(path: Path, arrays: tuple[np.ndarray, ...]) -> None:
    write_npz(path, dict(zip(_CACHE_KEYS, arrays, strict=True)))


def _normalise(images: np.ndarray) -> np.ndarray:
    """(x/255 - mean)/std per channel, through a [3, 256] lookup table (as CIFAR's)."""
    levels = np.arange(256, dtype=np.float32) / np.float32(255)
    mean = np.asarray(MEAN, dtype=np.float32)[:, None]
    std = np.asarray(STD, dtype=np.float32)[:, None]
    lut = (levels[None, :] - mean) / std
    out = np.empty(images.shape, dtype=np.float32)
    for c in range(3):
        out[:, c] = lut[c][images[:, c]]
    return _readonly(out)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _bad(where: str, problem: str) -> DataFormatError:
    return DataFormatError(
        f"{where}: {problem}. Replace it with a good copy of the standard {ARCHIVE} or its "
        "extracted folder, or delete it: a missing zip is downloaded again."
    )
