"""CelebA (aligned faces), cropped and resized to 32x32 for the paper's deconv autoencoder.

Looked for in `<root>/celeba/`, first match wins:

1. `celeba-32x32.npz`, the cache this module writes after the first read (uint8 images:
   decoding and resizing 200,000 JPEGs takes minutes, loading the cache seconds);
2. `img_align_celeba/` (the extracted folder of `000001.jpg` ...) and
   `list_eval_partition.txt`;
3. `img_align_celeba.zip`, read in place (nothing is extracted), and
   `list_eval_partition.txt`.

The official files live on Google Drive, which offers no stable direct URL (downloads of
large files need an interactive confirmation and hit quotas), so nothing is downloaded: a
missing set is a DataUnavailableError that names the files and where to put them.

Each 178x218 image is cropped to rows 10..210 (the paper's code, examples/data_utils.py in
liukidar/pcx, drops 10 rows at the top and 8 at the bottom) and resized with Lanczos to
32x32, the size at which Table 8's 4x4x8 latent reaches the image in three stride-2
layers. Partition 0 is the training set and 2 the test set (torchvision's "train" and
"test" splits, as the paper's code uses); partition 1 (validation) is not used. Pixels are
x/255 in [0, 1], unnormalised like every autoencoder task; there are no labels (one class).
"""

from __future__ import annotations

import functools
import io
import os
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np

from pcsearch.data.cache import write_npz
from pcsearch.data.download import DataFile, DataFiles
from pcsearch.errors import DataFormatError, DataUnavailableError

FOLDER = "img_align_celeba"
ARCHIVE = "img_align_celeba.zip"
PARTITION = "list_eval_partition.txt"
SIZE = 32
CACHE = f"celeba-{SIZE}x{SIZE}.npz"
SOURCE_SIZE = (178, 218)
"""Width and height of every aligned CelebA image."""
CROP_BOX = (0, 10, 178, 210)
"""(left, top, right, bottom) kept before resizing, as the paper's code crops."""
TRAIN, TEST = 0, 2
NUM_CLASSES = 1
DRIVE = "https://drive.google.com/drive/folders/0B7EVK8r0v71pWEZsZE9oNnFzTm8"

CelebaArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]
_DATA_DIR_ENV = "PCSEARCH_DATA_DIR"  # as pcsearch.data.datasets.DATA_DIR_ENV
_CACHE_KEYS = ("x_train", "x_test")
_CHUNK = 2048


def load_celeba(root: str | Path) -> CelebaArrays:
    """(x_train, y_train, x_test, y_test, 1) from `<root>/celeba/`.

    x_* float32 [N, 3, 32, 32] in [0, 1], y_* int32 zeros; read-only and cached in memory
    per process. Raises DataUnavailableError (nothing there) or DataFormatError (a damaged
    image, partition list, zip or cache).
    """
    return _load(str(Path(root).expanduser().resolve()))


def clear_cache() -> None:
    _load.cache_clear()


@functools.lru_cache(maxsize=1)
def _load(root: str) -> CelebaArrays:
    folder = Path(root) / "celeba"
    cache = folder / CACHE
    if cache.is_file():
        x_tr, x_te = _read_cache(cache)
    else:
        x_tr, x_te = _read_source(folder)
        _write_cache(cache, (x_tr, x_te))
    labels = [_readonly(np.zeros(len(x), np.int32)) for x in (x_tr, x_te)]
    return _unit(x_tr), labels[0], _unit(x_te), labels[1], NUM_CLASSES


def data_files() -> DataFiles:
    """The zip (or its extracted folder) and the partition list, which have no direct URL
    and no published md5; the cache, when there, is read in place of both."""
    return DataFiles(
        "celeba",
        (DataFile(ARCHIVE, instead=(CACHE, FOLDER)), DataFile(PARTITION, instead=(CACHE,))),
        manual=manual_step,
    )


def manual_step(folder: Path) -> str:
    """Why CelebA is not downloaded, and how to put it into ``folder`` by hand."""
    return (
        f"it cannot be downloaded automatically (its official files are on Google Drive, "
        f"{DRIVE}). To fix, download Img/{ARCHIVE} and Eval/{PARTITION} from there and put "
        f"both directly in {folder} (the zip may also be extracted there as {FOLDER}/)"
    )


# ----------------------------------------------------------------------------- sources


def _missing(folder: Path, what: str) -> DataUnavailableError:
    return DataUnavailableError(
        f"CelebA is not in {folder} ({what}); {manual_step(folder)}, or set {_DATA_DIR_ENV} "
        "(or pass data_dir) to a folder whose celeba/ subfolder holds them."
    )


def _read_source(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode the images of the train and test partitions from the folder or the zip."""
    has_folder, zip_path = (folder / FOLDER).is_dir(), folder / ARCHIVE
    if not has_folder and not zip_path.is_file():
        raise _missing(folder, f"neither {FOLDER}/ nor {ARCHIVE} is there")
    if not (folder / PARTITION).is_file():
        raise _missing(folder, f"{PARTITION} is missing")
    splits = _partition(folder / PARTITION)
    if has_folder:
        images = folder / FOLDER

        def read(name: str) -> bytes:
            path = images / name
            if not path.is_file():
                raise _bad(str(images), f"lacks {name}, which {PARTITION} lists")
            return path.read_bytes()

        return _decode_splits(str(images), splits, read)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _bad(str(zip_path), f"is not a readable zip archive ({err})") from err
    with archive:
        members = {n.rpartition("/")[2]: n for n in archive.namelist() if n.endswith(".jpg")}

        def read_member(name: str) -> bytes:
            if name not in members:
                raise _bad(str(zip_path), f"lacks {FOLDER}/{name}, which {PARTITION} lists")
            try:
                return archive.read(members[name])
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                raise _bad(str(zip_path), f"member {members[name]} is damaged ({err})") from err

        return _decode_splits(str(zip_path), splits, read_member)


def _partition(path: Path) -> dict[int, list[str]]:
    """Image names per partition, in file order."""
    splits: dict[int, list[str]] = {TRAIN: [], 1: [], TEST: []}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise _bad(str(path), f"line {number} is {line!r}, expected '<image>.jpg <0|1|2>'")
        splits[int(fields[1])].append(fields[0])
    if not splits[TRAIN] or not splits[TEST]:
        raise _bad(
            str(path),
            f"lists {len(splits[TRAIN])} training and {len(splits[TEST])} test images; "
            "both splits need some",
        )
    return splits


def _decode_splits(
    where: str, splits: dict[int, list[str]], read: Callable[[str], bytes]
) -> tuple[np.ndarray, ...]:
    """Bytes are read here, in order; decoding runs on threads (Pillow releases the GIL)."""
    workers = min(16, os.cpu_count() or 1)
    out = []
    with ThreadPoolExecutor(workers) as pool:
        for split in (TRAIN, TEST):
            names = iter(splits[split])
            images: list[np.ndarray] = []
            while chunk := list(islice(names, _CHUNK)):
                data = [(n, read(n)) for n in chunk]
                images += pool.map(lambda item: _decode(where, *item), data)
            out.append(np.stack(images))
    return tuple(out)


def _decode(where: str, name: str, data: bytes) -> np.ndarray:
    """One aligned JPEG as uint8 [3, 32, 32]: cropped, resized, RGB."""
    from PIL import Image, UnidentifiedImageError  # only needed when decoding

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size != SOURCE_SIZE:
                raise _bad(where, f"{name} is {image.size[0]}x{image.size[1]}, expected 178x218")
            small = (
                image.convert("RGB").crop(CROP_BOX).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
            )
            array = np.asarray(small, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise _bad(where, f"{name} is not a readable JPEG ({err})") from err
    return array.transpose(2, 0, 1)


# ------------------------------------------------------------------------------- cache


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray]:
    fix = "Delete it; the next load rebuilds it from the images beside it."
    try:
        with np.load(path, allow_pickle=False) as f:
            x_tr, x_te = (f[k] for k in _CACHE_KEYS)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DataFormatError(
            f"{path}: the CelebA cache is damaged ({type(err).__name__}: {err}). {fix}"
        ) from err
    if not all(x.dtype == np.uint8 and x.shape[1:] == (3, SIZE, SIZE) for x in (x_tr, x_te)):
        raise DataFormatError(f"{path}: not a cache of uint8 [N, 3, {SIZE}, {SIZE}] images. {fix}")
    return x_tr, x_te


def _write_cache(path: Path, arrays: tuple[np.ndarray, ...]) -> None:
    write_npz(path, dict(zip(_CACHE_KEYS, arrays, strict=True)))


# ------------------------------------------------------------------------------ helpers


def _unit(images: np.ndarray) -> np.ndarray:
    """x/255 in [0, 1] through a 256-entry lookup table."""
    return _readonly((np.arange(256, dtype=np.float32) / np.float32(255))[images])


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _bad(where: str, problem: str) -> DataFormatError:
    return DataFormatError(
        f"{where}: {problem}. Replace it with a good copy of the official aligned CelebA "
        f"files ({ARCHIVE} or its extracted {FOLDER}/, and {PARTITION}), or delete the damaged "
        "file and put a good one in its place."
    )
