"""notMNIST: font glyphs of the letters A-J in MNIST's format; an OOD set of Appendix F.

The paper's OOD code (``examples/s5_analysis_and_metrics/properties_of_PCNs/utils.py`` in
liukidar/pcx v0.6.1, class ``NotMNIST``) reads only a test split, from plain IDX files
``notMNIST/raw/t10k-{images-idx3,labels-idx1}-ubyte``, keeps its first 8,000 images and
normalises with ``Normalize((0.4248,), (0.4585,))`` after x/255. It does not say where
the files came from; the MNIST-format notMNIST in common use is David Flanagan's
``notMNIST-to-MNIST`` repository (10,000 test images, 1,000 per letter, shuffled), whose
statistics agree with the code's (mean 0.427, std 0.459 over its test images). Its two
test files are fetched from the commit that added them, so the bytes cannot change under
the checksums below; we computed those from that commit's blobs (git object ids
5d531796... and 52b51038...), as no registry publishes any for these files.

Read from `<root>/notmnist/`: the two ``.gz`` files, or the same files uncompressed (the
code's layout). All 10,000 test images are loaded (the OOD evaluation takes its first
8,000, as the code does). There is no training split: ``x_train`` is the test split again,
so that notMNIST is a data set like the others; nothing trains on it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from pcsearch.data.download import DataFiles
from pcsearch.data.idx_sets import either, ensure, idx_files, read_pair, standardise

FOLDER = "notmnist"
COMMIT = "c58c29ff93d7b8c809c449b380a232f9f39909fd"
MIRRORS: tuple[str, ...] = (
    f"https://raw.githubusercontent.com/davidflanagan/notMNIST-to-MNIST/{COMMIT}/",
    f"https://github.com/davidflanagan/notMNIST-to-MNIST/raw/{COMMIT}/",
)
NAMES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MD5: dict[str, str] = {
    "t10k-images-idx3-ubyte.gz": "2c87c839a4ef9b238846600eec8c35b7",
    "t10k-labels-idx1-ubyte.gz": "7ea9118cbafd0f6e3ee2ad771d782a01",
}
SHA256: dict[str, str] = {
    "t10k-images-idx3-ubyte.gz": "70ae9e06201f2827e5b0a3781a3169d735dd2efc69996b9eeaee7f10ed4044d7",
    "t10k-labels-idx1-ubyte.gz": "1fa03836e01c862542f8eb83463bb951bebec6fcb3efa28dad748c6b38a9021b",
}
MEAN, STD = 0.4248, 0.4585
"""The paper's OOD code's normalisation of notMNIST (after x/255)."""
CLASSES = 10

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


def data_files() -> DataFiles:
    """The two test files with their URLs, md5 and sha256 (read at call time, so patched
    constants are seen); an uncompressed copy is read in a file's place."""
    return idx_files(FOLDER, NAMES, MIRRORS, MD5, SHA256)


def load_notmnist(root: str | Path) -> Arrays:
    """(x, y, x, y, 10): the test split twice; x float32 [N, 784] normalised, y uint8."""
    return _load(str(Path(root).expanduser().resolve()))


def clear_cache() -> None:
    _load.cache_clear()


@functools.lru_cache(maxsize=1)
def _load(root: str) -> Arrays:
    folder = Path(root) / FOLDER
    ensure("notmnist", data_files(), folder)
    images, labels = read_pair(either(folder, NAMES[0]), either(folder, NAMES[1]), range(CLASSES))
    x = standardise(images, MEAN, STD)
    return x, labels, x, labels, CLASSES
