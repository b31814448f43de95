"""Data sets as plain numpy arrays, ready to be put on a device in one piece.

MNIST and Fashion-MNIST are read from the standard gzip IDX files in
`<data_dir>/<name>/`, downloaded once (md5-checked) when missing. Files already on disk are
trusted only after parsing: their md5 is not checked because recompressed copies of the
same content are common and fine. The bundled sets come from scikit-learn and need no files.

CIFAR, Tiny ImageNet and CelebA have their own modules (`pcsearch.data.cifar`,
`.tinyimagenet`, `.celeba`), and so do the OOD sets of Appendix F (`.kmnist`, `.emnist`,
`.notmnist`); `mnist-ood` and `fashionmnist-ood` are the MNIST files as that study's code
normalises them, MNIST cut to its 30,000 training images (`pcsearch.data.ood_mnist`).
The "-raw" variants (`mnist-raw`, `fashionmnist-raw`, `cifar10-raw`) are the same files
with pixels x/255 in [0, 1], not normalised: what the paper's autoencoders train on (its
code loads them with `should_normalize=False`).

No `.npz` cache of the IDX sets is written (Tiny ImageNet keeps one of uint8 images:
decoding its JPEGs is slow): parsing the gzip files takes well under a second, a float32
cache of MNIST would be about 220 MB, and the data folder may be shared or read-only. The
parsed arrays are cached in memory per process instead; they are read-only because every
caller shares them.

``LOADERS`` (at the end) holds one loader per data set of ``pcsearch.catalogue.DATASETS``,
which describes each one's shapes; the two are checked against each other on import.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pcsearch.catalogue.datasets import DATASETS as CATALOGUE_DATASETS
from pcsearch.catalogue.registry import check_registry
from pcsearch.data import celeba, cifar, emnist, kmnist, notmnist, ood_mnist, tinyimagenet
from pcsearch.data.celeba import clear_cache as clear_celeba_cache
from pcsearch.data.celeba import load_celeba
from pcsearch.data.cifar import CifarName, load_cifar
from pcsearch.data.cifar import clear_cache as clear_cifar_cache
from pcsearch.data.download import DataFile, DataFiles, download
from pcsearch.data.idx import read_idx
from pcsearch.data.idx_sets import standardise
from pcsearch.data.iris import load_iris_split
from pcsearch.data.tinyimagenet import clear_cache as clear_tinyimagenet_cache
from pcsearch.data.tinyimagenet import load_tinyimagenet
from pcsearch.errors import DataFormatError, DataUnavailableError, UnknownNameError

DATA_DIR_ENV = "PCSEARCH_DATA_DIR"
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# Tried in order; each URL is a prefix for the file names above.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashionmnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

# md5 of the original .gz files, as published by torchvision.
MD5: dict[str, dict[str, str]] = {
    "mnist": dict(
        zip(
            IDX_FILES,
            (
                "f68b3c2dcbeaae91b6baf05e3d3b5d14",
                "d53e105ee54ea40749a09fcbcd1e9432",
                "9fb629c4189551a2d022fa330f9573f3",
                "ec29112dd5afa0611ce80d1b7f02629c",
            ),
            strict=True,
        )
    ),
    "fashionmnist": dict(
        zip(
            IDX_FILES,
            (
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "25c81989df183df01b3e8a0aad5dffbe",
                "bef4ecab320f06d8554ea6380940ec79",
                "bb300cfdad3c16e7a12a480ee83cd310",
            ),
            strict=True,
        )
    ),
}

_IMAGE_SHAPE = (28, 28)
_IDX_CLASSES = 10
_BUNDLED_SAMPLES = 2000
_SEED = 0


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split: `x_*` float32 [N, *shape] (MNIST-like and bundled sets flattened to
    [N, D], images [N, C, H, W]), `y_*` int32 [N] class indices.

    Equality is identity (`eq=False`): comparing arrays element-wise has no single truth value.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    name: str

    def __post_init__(self) -> None:
        for split, x, y in (
            ("train", self.x_train, self.y_train),
            ("test", self.x_test, self.y_test),
        ):
            if x.dtype != np.float32 or x.ndim < 2 or y.dtype != np.int32 or y.ndim != 1:
                raise ValueError(
                    f"{self.name} {split}: expected float32 [N, *shape] and int32 [N], "
                    f"found {x.dtype} {x.shape} and {y.dtype} {y.shape}"
                )
            if len(x) != len(y):
                raise ValueError(f"{self.name} {split}: {len(x)} inputs but {len(y)} labels")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"{self.name}: train and test inputs differ in shape")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.x_train.shape[1:])

    @property
    def input_dim(self) -> int:
        """Width D of one flattened input, the size of an MLP's input layer."""
        return int(np.prod(self.input_shape))


def default_data_dir() -> Path:
    """`$PCSEARCH_DATA_DIR` when set, else `~/.cache/pcsearch/data`."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pcsearch" / "data"


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load a data set by name; `data_dir` only matters for file-based sets (MNIST-like, CIFAR).

    Raises UnknownNameError for an unknown name, DataUnavailableError when files are missing
    and cannot be downloaded, and DataFormatError when a file on disk is damaged.
    """
    if name not in LOADERS:
        raise UnknownNameError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return LOADERS[name](data_dir)


def clear_cache() -> None:
    """Forget the in-memory copies, e.g. after replacing files on disk."""
    _load_idx.cache_clear()
    _load_ood_idx.cache_clear()
    _load_bundled.cache_clear()
    for module in (kmnist, emnist, notmnist):
        module.clear_cache()
    clear_cifar_cache()
    clear_tinyimagenet_cache()
    clear_celeba_cache()


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _make(name: str, x_tr, y_tr, x_te, y_te, num_classes: int) -> Dataset:
    return Dataset(
        x_train=_readonly(np.asarray(x_tr, dtype=np.float32)),
        y_train=_readonly(np.asarray(y_tr, dtype=np.int32)),
        x_test=_readonly(np.asarray(x_te, dtype=np.float32)),
        y_test=_readonly(np.asarray(y_te, dtype=np.int32)),
        num_classes=num_classes,
        name=name,
    )


# ---------------------------------------------------------------------------- IDX sets


def idx_files(name: str) -> DataFiles:
    """The four files of an IDX set ("mnist" or "fashionmnist"), each with its mirrors' URLs
    and md5; read at call time, so a patched ``MIRRORS`` or ``MD5`` is seen."""
    files = tuple(DataFile(f, tuple(m + f for m in MIRRORS[name]), MD5[name][f]) for f in IDX_FILES)
    return DataFiles(name, files)


def _ensure_files(name: str, folder: Path) -> None:
    """Download the files that are missing; say exactly what to put where when we cannot."""
    missing = [f for f in idx_files(name).files if not (folder / f.name).is_file()]
    hint = (
        f"To fix, copy the four standard gzip IDX files {', '.join(IDX_FILES)} into {folder} "
        f"(missing now: {', '.join(f.name for f in missing)}), or set {DATA_DIR_ENV} (or pass "
        f"data_dir) to a folder whose {name}/ subfolder holds them."
    )
    for file in missing:
        try:
            download(file.urls, folder / file.name, md5=file.md5, hint=hint)
        except OSError as err:  # e.g. the folder is not writable
            raise DataUnavailableError(
                f"cannot save {file.name} into {folder}: {err}. {hint}"
            ) from err


def _check(ok: bool, path: Path, problem: str) -> None:
    if not ok:
        raise DataFormatError(
            f"{path}: {problem}. Delete {path} so that it is downloaded again, "
            "or replace it with a good copy of the standard file."
        )


def _read_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split's images and labels and check that they belong together."""
    images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
    images, labels = read_idx(images_path), read_idx(labels_path)
    _check(
        images.dtype == np.uint8 and images.ndim == 3 and images.shape[1:] == _IMAGE_SHAPE,
        images_path,
        f"expected uint8 images of shape [N, 28, 28], found {images.dtype} {images.shape}",
    )
    _check(
        labels.dtype == np.uint8 and labels.ndim == 1,
        labels_path,
        f"expected uint8 labels of shape [N], found {labels.dtype} {labels.shape}",
    )
    if len(images) != len(labels):
        raise DataFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} "
            "labels; expected the same count. Delete both files so that they are downloaded "
            "again, or replace them with a matching pair of standard files."
        )
    bad = int(labels.max(initial=0))
    _check(
        bad < _IDX_CLASSES,
        labels_path,
        f"expected labels 0..{_IDX_CLASSES - 1}, found label {bad}",
    )
    return images, labels


def _normalise(images: np.ndarray) -> np.ndarray:
    """Paper, Table 6: x/255 then (x - 0.5)/0.5, i.e. [-1, 1]; flattened to [N, 784].

    A 256-entry lookup table gives exactly the same float32 values as the arithmetic and is
    about twice as fast on MNIST's 47 million pixels.
    """
    lut = (np.arange(256, dtype=np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5)
    return lut[images.reshape(len(images), -1)]


def _unit(images: np.ndarray) -> np.ndarray:
    """x/255 in [0, 1], flattened to [N, 784]: the "-raw" variants."""
    lut = np.arange(256, dtype=np.float32) / np.float32(255)
    return lut[images.reshape(len(images), -1)]


@functools.lru_cache(maxsize=4)
def _load_idx(name: str, root: str, raw: bool = False) -> Dataset:
    folder = Path(root) / name
    _ensure_files(name, folder)
    x_tr, y_tr = _read_split(folder, "train")
    x_te, y_te = _read_split(folder, "t10k")
    if raw:
        return _make(f"{name}-raw", _unit(x_tr), y_tr, _unit(x_te), y_te, _IDX_CLASSES)
    return _make(name, _normalise(x_tr), y_tr, _normalise(x_te), y_te, _IDX_CLASSES)


@functools.lru_cache(maxsize=2)
def _load_ood_idx(name: str, root: str, subset: bool) -> Dataset:
    """``name`` as the paper's OOD code loads it (``pcsearch.data.ood_mnist``): its own
    mean and std; ``subset``: only the code's 30,000 training images."""
    folder = Path(root) / name
    _ensure_files(name, folder)
    x_tr, y_tr = _read_split(folder, "train")
    x_te, y_te = _read_split(folder, "t10k")
    if subset:
        keep = ood_mnist.code_training_subset(len(x_tr))
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    mean, std = ood_mnist.STATS[name]
    x_tr, x_te = standardise(x_tr, mean, std), standardise(x_te, mean, std)
    return _make(f"{name}-ood", x_tr, y_tr, x_te, y_te, _IDX_CLASSES)


# ------------------------------------------------------------------------ bundled sets


@functools.cache
def _load_bundled(name: str) -> Dataset:
    """Seeded scikit-learn sets, half of each held out (stratified) for testing.

    digits: pixels 0..16 divided by 16, then (x - 0.5)/0.5 into [-1, 1] like MNIST.
    two-moons / two-circles: standardised by the train split's mean and std, so the test
    split sees no statistics of itself.
    """
    # Imported here: scikit-learn takes a while to import and MNIST users never need it.
    from sklearn.datasets import load_digits, make_circles, make_moons
    from sklearn.model_selection import train_test_split

    if name == "digits":
        bunch = load_digits()
        x = (bunch.data / 16.0 - 0.5) / 0.5
        y = bunch.target
    elif name == "two-moons":
        x, y = make_moons(n_samples=_BUNDLED_SAMPLES, noise=0.1, random_state=_SEED)
    elif name == "two-circles":
        x, y = make_circles(n_samples=_BUNDLED_SAMPLES, noise=0.1, factor=0.5, random_state=_SEED)
    else:  # pragma: no cover - load_dataset checks the name
        raise UnknownNameError(f"unknown bundled dataset {name!r}")
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.5, random_state=_SEED, stratify=y)
    if name != "digits":
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    num_classes = int(max(y_tr.max(), y_te.max())) + 1
    return _make(name, x_tr, y_tr, x_te, y_te, num_classes)


# ---------------------------------------------------------------------------- registry

Loader = Callable[[str | Path | None], Dataset]
"""data_dir (None: ``default_data_dir()``) -> the data set; bundled sets ignore it."""


def _root(data_dir: str | Path | None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def _idx(name: str, raw: bool = False) -> Loader:
    return lambda data_dir: _load_idx(name, str(_root(data_dir).resolve()), raw)


def _ood_idx(name: str, subset: bool = False) -> Loader:
    return lambda data_dir: _load_ood_idx(name, str(_root(data_dir).resolve()), subset)


def _cifar(name: CifarName, raw: bool = False) -> Loader:
    label = f"{name}-raw" if raw else name
    return lambda data_dir: _make(label, *load_cifar(name, _root(data_dir), normalise=not raw))


def _parity(name: str) -> Loader:
    """``name`` with labels 0 (even digit) and 1 (odd): conditional MCPC's h_0 (Appendix C.2)."""

    def load(data_dir: str | Path | None) -> Dataset:
        d = load_dataset(name, data_dir)
        return _make(f"{name}-parity", d.x_train, d.y_train % 2, d.x_test, d.y_test % 2, 2)

    return load


LOADERS: dict[str, Loader] = {
    "mnist": _idx("mnist"),
    "fashionmnist": _idx("fashionmnist"),
    "cifar10": _cifar("cifar10"),
    "cifar100": _cifar("cifar100"),
    "tinyimagenet": lambda d: _make("tinyimagenet", *load_tinyimagenet(_root(d))),
    "celeba": lambda d: _make("celeba", *load_celeba(_root(d))),
    "mnist-raw": _idx("mnist", raw=True),
    "fashionmnist-raw": _idx("fashionmnist", raw=True),
    "cifar10-raw": _cifar("cifar10", raw=True),
    "digits": lambda d: _load_bundled("digits"),
    "two-moons": lambda d: _load_bundled("two-moons"),
    "two-circles": lambda d: _load_bundled("two-circles"),
    "iris": lambda d: _make("iris", *load_iris_split()),
    "mnist-parity": _parity("mnist"),
    "mnist-ood": _ood_idx("mnist", subset=True),
    "fashionmnist-ood": _ood_idx("fashionmnist"),
    "kmnist": lambda d: _make("kmnist", *kmnist.load_kmnist(_root(d))),
    "emnist-letters": lambda d: _make("emnist-letters", *emnist.load_emnist_letters(_root(d))),
    "notmnist": lambda d: _make("notmnist", *notmnist.load_notmnist(_root(d))),
}
"""One loader per data set of ``pcsearch.catalogue.DATASETS`` (checked below); the "-raw"
variants read the same files with pixels x/255 in [0, 1]."""

check_registry(
    "dataset",
    LOADERS,
    CATALOGUE_DATASETS,
    registry_at="pcsearch.data.datasets.LOADERS",
    catalogue_at="pcsearch/catalogue/datasets.py",
)

DATASETS: tuple[str, ...] = tuple(LOADERS)
"""The names ``load_dataset`` knows, in ``LOADERS``' order."""

FILES: dict[str, Callable[[], DataFiles] | None] = {
    "mnist": lambda: idx_files("mnist"),
    "fashionmnist": lambda: idx_files("fashionmnist"),
    "cifar10": lambda: cifar.data_files("cifar10"),
    "cifar100": lambda: cifar.data_files("cifar100"),
    "tinyimagenet": tinyimagenet.data_files,
    "celeba": celeba.data_files,
    "mnist-raw": lambda: idx_files("mnist"),
    "fashionmnist-raw": lambda: idx_files("fashionmnist"),
    "cifar10-raw": lambda: cifar.data_files("cifar10"),
    "digits": None,
    "two-moons": None,
    "two-circles": None,
    "iris": None,
    "mnist-parity": lambda: idx_files("mnist"),
    "mnist-ood": lambda: idx_files("mnist"),
    "fashionmnist-ood": lambda: idx_files("fashionmnist"),
    "kmnist": kmnist.data_files,
    "emnist-letters": emnist.data_files,
    "notmnist": notmnist.data_files,
}
"""The files each loader of ``LOADERS`` reads, from the loader modules' own lists (built at
call time, so patched mirrors are seen); None for the sets scikit-learn bundles or makes,
which need no file. Read by ``pcsearch.data.fetch`` (``pcsearch data fetch`` / ``check``)."""

check_registry(
    "dataset file",
    FILES,
    CATALOGUE_DATASETS,
    registry_at="pcsearch.data.datasets.FILES",
    catalogue_at="pcsearch/catalogue/datasets.py",
)
