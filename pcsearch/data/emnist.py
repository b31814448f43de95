"""EMNIST letters a-j, as the paper's OOD code reads them: an OOD set of Appendix F.

The code (``examples/s5_analysis_and_metrics/properties_of_PCNs/utils.py`` in liukidar/pcx
v0.6.1) loads torchvision's ``EMNIST(split="letters")``, keeps classes 1..10 (a..j) with
labels shifted to 0..9 (``filter_first_10_classes``: 48,000 training and 8,000 test
images) and normalises with ``Normalize((0.1722,), (0.3309,))`` after x/255. Images stay
as the EMNIST files store them, transposed against upright letters: torchvision does not
transpose them, so the code's network saw them that way, and so does this loader's.

Looked for in `<root>/emnist/`, first match wins:

1. `emnist-letters.npz`, the cache this module writes after the first read (uint8 a..j
   images and labels 0..9 of both splits, 44 MB: the zip is 562 MB);
2. the four `emnist-letters-{train,test}-{images-idx3,labels-idx1}-ubyte.gz` files (or
   uncompressed: torchvision's ``EMNIST/raw/`` holds them so), e.g. from the zip's `gzip/`;
3. NIST's `gzip.zip`, read in place, downloaded when missing; md5 as torchvision records
   it (class ``EMNIST``), sha256 as tensorflow-datasets does (``url_checksums/emnist.txt``).
"""

from __future__ import annotations

import functools
import gzip
import zipfile
import zlib
from pathlib import Path

import numpy as np

from pcsearch.data.cache import write_npz
from pcsearch.data.download import DataFile, DataFiles
from pcsearch.data.idx import parse_idx
from pcsearch.data.idx_sets import IMAGE_SHAPE, either, ensure, read_pair, standardise
from pcsearch.errors import DataFormatError

FOLDER = "emnist"
ARCHIVE = "gzip.zip"
CACHE = "emnist-letters.npz"
MIRRORS: tuple[str, ...] = (
    "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip",
    "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
)
"""The first is the URL torchvision and tensorflow-datasets record; the second NIST's
current page. Either must serve the bytes of the checksums below."""
MD5 = "58c8d27c78d21e728a6bc7b3cc06412e"
SHA256 = "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"
MEAN, STD = 0.1722, 0.3309
"""The paper's OOD code's normalisation of EMNIST letters (after x/255)."""
KEPT = range(1, 11)
"""EMNIST letters' labels 1..10 (a..j), the ones the code keeps; 0..9 after the shift."""
CLASSES = len(KEPT)
_LETTERS = range(1, 27)

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]
_CACHE_KEYS = ("x_train", "y_train", "x_test", "y_test")


def member(split: str, kind: str) -> str:
    """A letters file's name, e.g. ``emnist-letters-test-images-idx3-ubyte.gz``."""
    return f"emnist-letters-{split}-{'images-idx3' if kind == 'images' else 'labels-idx1'}-ubyte.gz"


_LOOSE_TEST = member("test", "images")


def data_files() -> DataFiles:
    """The zip with its URLs, md5 and sha256 (read at call time, so patched constants are
    seen); the cache or the extracted letters files, when there, are read in its place."""
    instead = (CACHE, _LOOSE_TEST, _LOOSE_TEST.removesuffix(".gz"))
    return DataFiles(FOLDER, (DataFile(ARCHIVE, MIRRORS, MD5, instead=instead, sha256=SHA256),))


def load_emnist_letters(root: str | Path) -> Arrays:
    """(x_train, y_train, x_test, y_test, 10): x float32 [N, 784] normalised, y uint8 0..9."""
    return _load(str(Path(root).expanduser().resolve()))


def clear_cache() -> None:
    _load.cache_clear()


@functools.lru_cache(maxsize=1)
def _load(root: str) -> Arrays:
    folder = Path(root) / FOLDER
    cache = folder / CACHE
    if cache.is_file():
        raw = _read_cache(cache)
    else:
        raw = _from_files(folder) if _loose(folder) else _from_zip(folder)
        write_npz(cache, dict(zip(_CACHE_KEYS, raw, strict=True)))
    x_tr, y_tr, x_te, y_te = raw
    return standardise(x_tr, MEAN, STD), y_tr, standardise(x_te, MEAN, STD), y_te, CLASSES


def _kept(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Letters a..j only, labels 0..9, in file order (the code's filter_first_10_classes)."""
    keep = (labels >= KEPT.start) & (labels < KEPT.stop)
    return np.ascontiguousarray(images[keep]), (labels[keep] - KEPT.start).astype(np.uint8)


def _loose(folder: Path) -> bool:
    return either(folder, _LOOSE_TEST).is_file()


def _from_files(folder: Path) -> tuple[np.ndarray, ...]:
    out: list[np.ndarray] = []
    for split in ("train", "test"):
        paths = [either(folder, member(split, kind)) for kind in ("images", "labels")]
        absent = [p.name for p in paths if not p.is_file()]
        if absent:
            raise DataFormatError(
                f"{folder} holds some of the EMNIST letters files but not {', '.join(absent)}. "
                "To fix, copy all four emnist-letters-{train,test}-{images-idx3,labels-idx1}-"
                f"ubyte.gz files there, or delete them so that {ARCHIVE} is read (and "
                "downloaded) instead."
            )
        out += _kept(*read_pair(paths[0], paths[1], _LETTERS))
    return tuple(out)


def _from_zip(folder: Path) -> tuple[np.ndarray, ...]:
    ensure("emnist-letters", data_files(), folder)
    path = folder / ARCHIVE
    out: list[np.ndarray] = []
    try:
        with zipfile.ZipFile(path) as archive:
            for split in ("train", "test"):
                images = _member_array(archive, path, member(split, "images"))
                labels = _member_array(archive, path, member(split, "labels"))
                out += _kept(*_checked(path, split, images, labels))
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _bad(path, f"is not a readable zip archive ({err})") from err
    return tuple(out)


def _member_array(archive: zipfile.ZipFile, path: Path, name: str) -> np.ndarray:
    inside = f"gzip/{name}"
    try:
        data = gzip.decompress(archive.read(inside))
    except KeyError as err:
        raise _bad(path, f"lacks the member {inside}") from err
    except (zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise _bad(path, f"member {inside} is damaged ({err})") from err
    return parse_idx(data, source=f"{path} (member {inside})")


def _checked(
    path: Path, split: str, images: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    ok = (
        images.dtype == np.uint8 and images.ndim == 3 and images.shape[1:] == IMAGE_SHAPE
        and labels.dtype == np.uint8 and labels.shape == (len(images),)
        and (labels.size == 0 or _LETTERS.start <= labels.min() <= labels.max() < _LETTERS.stop)
    )  # fmt: skip
    if not ok:
        raise _bad(
            path,
            f"its {split} letters are not uint8 [N, 28, 28] images with N labels in 1..26 "
            f"(found {images.dtype} {images.shape} and {labels.dtype} {labels.shape})",
        )
    return images, labels


def _read_cache(path: Path) -> tuple[np.ndarray, ...]:
    fix = f"Delete it; the next load rebuilds it from the files or the {ARCHIVE} beside it."
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = tuple(f[k] for k in _CACHE_KEYS)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DataFormatError(
            f"{path}: the EMNIST letters cache is damaged ({type(err).__name__}: {err}). {fix}"
        ) from err
    x_tr, y_tr, x_te, y_te = arrays
    ok = all(
        x.dtype == np.uint8 and x.shape[1:] == IMAGE_SHAPE and y.dtype == np.uint8
        and y.shape == (len(x),) and (y.size == 0 or y.max() < CLASSES)
        for x, y in ((x_tr, y_tr), (x_te, y_te))
    )  # fmt: skip
    if not ok:
        raise DataFormatError(
            f"{path}: not an EMNIST letters cache of uint8 [N, 28, 28] images and uint8 "
            f"labels 0..9. {fix}"
        )
    return arrays


def _bad(path: Path, problem: str) -> DataFormatError:
    return DataFormatError(
        f"{path}: {problem}. Delete it so that it is downloaded again, or replace it with a "
        f"good copy of NIST's {ARCHIVE}."
    )
