"""Kuzushiji-MNIST: ten cursive Japanese characters in MNIST's format; an OOD set of
Appendix F.

Read from `<root>/kmnist/`: the four gzip IDX files CODH publishes (the URLs torchvision's
``KMNIST`` downloads), or the same files uncompressed (torchvision's ``KMNIST/raw/``
holds both), downloaded when missing. Checksums: md5 as torchvision records them
(``torchvision/datasets/mnist.py``, class ``KMNIST``), sha256 as tensorflow-datasets
records them (``tensorflow_datasets/url_checksums/kmnist.txt``); a download must match
both. Both splits in file order, normalised as the paper's OOD code does (torchvision's
``Normalize((0.1918,), (0.3483,))`` after x/255: ``examples/s5_analysis_and_metrics/
properties_of_PCNs/utils.py`` in liukidar/pcx v0.6.1), flattened to 784.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from pcsearch.data.download import DataFiles
from pcsearch.data.idx_sets import either, ensure, idx_files, read_pair, standardise

FOLDER = "kmnist"
NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
MIRRORS: tuple[str, ...] = (
    "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
    "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
)
"""Each a prefix of the names above; torchvision and tensorflow-datasets use the http one."""
MD5: dict[str, str] = dict(
    zip(
        NAMES,
        (
            "bdb82020997e1d708af4cf47b453dcf7",
            "e144d726b3acfaa3e44228e80efcd344",
            "5c965bf0a639b31b8f53240b1b52f4d7",
            "7320c461ea6c1c855c0b718fb2a4b134",
        ),
        strict=True,
    )
)
SHA256: dict[str, str] = dict(
    zip(
        NAMES,
        (
            "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
            "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
        ),
        strict=True,
    )
)
MEAN, STD = 0.1918, 0.3483
"""The paper's OOD code's normalisation of KMNIST (after x/255)."""
CLASSES = 10

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


def data_files() -> DataFiles:
    """The four files with their URLs, md5 and sha256 (read at call time, so patched
    constants are seen); an uncompressed copy is read in a file's place."""
    return idx_files(FOLDER, NAMES, MIRRORS, MD5, SHA256)


def load_kmnist(root: str | Path) -> Arrays:
    """(x_train, y_train, x_test, y_test, 10): x float32 [N, 784] normalised, y uint8 [N]."""
    return _load(str(Path(root).expanduser().resolve()))


def clear_cache() -> None:
    _load.cache_clear()


@functools.lru_cache(maxsize=1)
def _load(root: str) -> Arrays:
    folder = Path(root) / FOLDER
    ensure("kmnist", data_files(), folder)
    splits = []
    for prefix in ("train", "t10k"):
        images, labels = read_pair(
            either(folder, f"{prefix}-images-idx3-ubyte.gz"),
            either(folder, f"{prefix}-labels-idx1-ubyte.gz"),
            range(CLASSES),
        )
        splits += [standardise(images, MEAN, STD), labels]
    x_tr, y_tr, x_te, y_te = splits
    return x_tr, y_tr, x_te, y_te, CLASSES
