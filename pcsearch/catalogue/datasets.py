"""The data sets of the vocabulary: each one's example shape and number of classes,
without reading any file.

The loaders are ``pcsearch.data.datasets.LOADERS``, checked against this list when that
module is imported; a contract test loads every one (from tiny files) and compares its
shapes with these.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcsearch.catalogue.registry import by_name


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    shape: tuple[int, ...]
    """One example's input shape: [D] for flattened and tabular sets, [C, H, W] for images."""
    classes: int
    preprocessing: str = ""
    """What the loader does to the raw values, in words (``pcsearch tasks show``)."""


_IDX = "x/255, then (x - 0.5)/0.5 into [-1, 1] (Table 6), flattened to 784"
_UNIT = "x/255 in [0, 1], not normalised (the paper's autoencoders)"
_CIFAR10 = "x/255, then per channel (x - mean)/std with Table 6's values (pcsearch.data.cifar)"
_CIFAR100 = _CIFAR10
_TINY = "x/255, then per channel (x - mean)/std with Table 6's values (pcsearch.data.tinyimagenet)"
_STANDARDISED = "standardised per feature by the training split's mean and std"
_OOD_CODE = (
    "x/255, then (x - {})/{} (the paper's OOD code: each set by its own statistics, "
    "liukidar/pcx v0.6.1 examples/s5_analysis_and_metrics/properties_of_PCNs/utils.py), "
    "flattened to 784"
)


_FLAT_28 = (784,)
_RGB_32 = (3, 32, 32)

DATASETS: dict[str, DatasetInfo] = by_name(
    [
        DatasetInfo("mnist", "MNIST", _FLAT_28, 10, _IDX),
        DatasetInfo("fashionmnist", "Fashion-MNIST", _FLAT_28, 10, _IDX),
        DatasetInfo(
            "digits", "scikit-learn 8x8 digits", (64,), 10, "x/16, then (x - 0.5)/0.5 into [-1, 1]"
        ),
        DatasetInfo("two-moons", "two moons", (2,), 2, _STANDARDISED),
        DatasetInfo("two-circles", "two circles", (2,), 2, _STANDARDISED),
        DatasetInfo("cifar10", "CIFAR-10", _RGB_32, 10, _CIFAR10),
        DatasetInfo("cifar100", "CIFAR-100", _RGB_32, 100, _CIFAR100),
        DatasetInfo("tinyimagenet", "Tiny ImageNet", (3, 64, 64), 200, _TINY),
        DatasetInfo("mnist-raw", "MNIST, pixels in [0, 1]", _FLAT_28, 10, _UNIT + ", flattened"),
        DatasetInfo(
            "fashionmnist-raw",
            "Fashion-MNIST, pixels in [0, 1]",
            _FLAT_28,
            10,
            _UNIT + ", flattened",
        ),
        DatasetInfo("cifar10-raw", "CIFAR-10, pixels in [0, 1]", _RGB_32, 10, _UNIT),
        DatasetInfo(
            "celeba",
            "CelebA at 32x32, pixels in [0, 1]",
            _RGB_32,
            1,
            "rows 10..210 kept (as the paper's code crops), Lanczos-resized to 32x32; " + _UNIT,
        ),
        DatasetInfo("iris", "iris sepal and petal length", (2,), 3, _STANDARDISED),
        DatasetInfo("mnist-parity", "MNIST labelled even (0) or odd (1)", _FLAT_28, 2, _IDX),
        # Appendix F's sets, as its code loads them (pcsearch.data.ood_mnist and the loaders).
        DatasetInfo(
            "mnist-ood",
            "MNIST as Appendix F's code loads it",
            _FLAT_28,
            10,
            "the code's 30,000 training images (numpy seed 42), all 10,000 test images; "
            + _OOD_CODE.format(0.1307, 0.3081),
        ),
        DatasetInfo(
            "fashionmnist-ood",
            "Fashion-MNIST as Appendix F's code loads it",
            _FLAT_28,
            10,
            _OOD_CODE.format(0.2860, 0.3530),
        ),
        DatasetInfo("kmnist", "Kuzushiji-MNIST", _FLAT_28, 10, _OOD_CODE.format(0.1918, 0.3483)),
        DatasetInfo(
            "emnist-letters",
            "EMNIST letters a-j",
            _FLAT_28,
            10,
            "letters a..j only (labels 1..10 shifted to 0..9), images transposed as the files "
            "store them (torchvision does not turn them upright); "
            + _OOD_CODE.format(0.1722, 0.3309),
        ),
        DatasetInfo(
            "notmnist",
            "notMNIST letters A-J (test split only)",
            _FLAT_28,
            10,
            "its 10,000 test images serve as both splits; " + _OOD_CODE.format(0.4248, 0.4585),
        ),
    ],
    "dataset",
)

DATASET_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    n: (d.shape, d.classes) for n, d in DATASETS.items()
}
"""Each dataset's input shape (one example) and number of classes: what synthetic data
for timing and smoke runs is made of, without reading any file."""
