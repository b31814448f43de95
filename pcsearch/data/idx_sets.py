"""What the MNIST-like sets of the OOD study share: checked downloads, IDX pairs, scaling.

KMNIST, EMNIST letters and notMNIST (``pcsearch.data.kmnist``, ``.emnist``, ``.notmnist``)
come as 28x28 uint8 IDX files, like MNIST. Each module lists its files as ``DataFiles``
(URLs, md5 and sha256); ``ensure`` downloads the missing ones, verified against every
recorded checksum, and refuses a file that has none rather than trust whatever a server
sends. ``standardise`` is the paper's OOD code's preprocessing: torchvision's ``ToTensor``
then ``Normalize(mean, std)`` with each set's own statistics, flattened to 784.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pcsearch.data.download import DataFile, DataFiles, download
from pcsearch.data.idx import read_idx
from pcsearch.errors import DataFormatError, DataUnavailableError

IMAGE_SHAPE = (28, 28)
DATA_DIR_ENV = "PCSEARCH_DATA_DIR"  # as pcsearch.data.datasets.DATA_DIR_ENV


def idx_files(
    folder: str,
    names: tuple[str, ...],
    mirrors: tuple[str, ...],
    md5: dict[str, str],
    sha256: dict[str, str],
) -> DataFiles:
    """Gzip IDX files ``names``, each at every mirror (a URL prefix) with its recorded
    checksums (a name without any is refused by ``ensure``); an uncompressed copy is read
    in a file's place."""
    return DataFiles(
        folder,
        tuple(
            DataFile(
                f,
                tuple(m + f for m in mirrors),
                md5.get(f),
                instead=(f.removesuffix(".gz"),),
                sha256=sha256.get(f),
            )
            for f in names
        ),
    )


def ensure(
    dataset: str, files: DataFiles, folder: Path, wanted: tuple[str, ...] | None = None
) -> None:
    """Download those of data set ``dataset``'s ``files`` (or of their names in ``wanted``)
    that are not in ``folder`` and for which no alternative the loader reads (``instead``)
    is there.

    Raises DataUnavailableError when a file cannot be had (offline, no URL, or no checksum
    to verify it against), DataFormatError when every mirror served the wrong bytes.
    """
    for file in files.files:
        if wanted is not None and file.name not in wanted:
            continue
        if (folder / file.name).is_file() or any((folder / o).exists() for o in file.instead):
            continue
        alternatives = f" (or {', '.join(file.instead)})" if file.instead else ""
        hint = (
            f"To fix, run `pcsearch data fetch {dataset}` on a machine with internet and "
            f"copy its {files.folder}/ folder here, or copy {file.name}{alternatives} into "
            f"{folder} by hand, or set {DATA_DIR_ENV} (or pass data_dir) to a folder whose "
            f"{files.folder}/ subfolder holds it."
        )
        if not file.urls:
            manual = files.manual(folder) if files.manual else hint
            raise DataUnavailableError(f"{folder / file.name} is missing: {manual}")
        refused = file.unverified(folder)
        if refused is not None:
            raise DataUnavailableError(f"{folder / file.name} is missing: {refused}.")
        try:
            download(file.urls, folder / file.name, md5=file.md5, sha256=file.sha256, hint=hint)
        except OSError as err:  # e.g. the folder is not writable
            raise DataUnavailableError(
                f"cannot save {file.name} into {folder}: {err}. {hint}"
            ) from err


def either(folder: Path, name: str) -> Path:
    """``folder/name`` (a ``.gz`` file), or the same file uncompressed when only that is
    there (torchvision's ``raw/`` folders hold both; the paper's notMNIST was plain)."""
    gz = folder / name
    plain = folder / name.removesuffix(".gz")
    return plain if not gz.is_file() and plain.is_file() else gz


def _bad(path: Path, problem: str) -> DataFormatError:
    return DataFormatError(
        f"{path}: {problem}. Delete {path} so that it is downloaded again, or replace it "
        "with a good copy of the standard file."
    )


def read_pair(images_path: Path, labels_path: Path, labels: range) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N, 28, 28] and uint8 labels [N] from two IDX files that belong
    together, every label in ``labels``."""
    images, classes = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise _bad(
            images_path,
            f"expected uint8 images of shape [N, 28, 28], found {images.dtype} {images.shape}",
        )
    if classes.dtype != np.uint8 or classes.ndim != 1:
        raise _bad(
            labels_path,
            f"expected uint8 labels of shape [N], found {classes.dtype} {classes.shape}",
        )
    if len(images) != len(classes):
        raise DataFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(classes)} "
            "labels; expected the same count. Delete both files so that they are downloaded "
            "again, or replace them with a matching pair of standard files."
        )
    if len(classes):
        low, high = int(classes.min()), int(classes.max())
        if low < labels.start or high >= labels.stop:
            raise _bad(
                labels_path,
                f"expected labels {labels.start}..{labels.stop - 1}, found {low}..{high}",
            )
    return images, classes


def standardise(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(x/255 - mean)/std in float32, flattened to [N, 784], read-only: torchvision's
    ToTensor and Normalize((mean,), (std,)) as the paper's OOD code applies them, through a
    256-entry lookup table (the same float32 values as the arithmetic)."""
    levels = np.arange(256, dtype=np.float32) / np.float32(255)
    lut = (levels - np.float32(mean)) / np.float32(std)
    out = lut[images.reshape(len(images), -1)]
    out.setflags(write=False)
    return out
