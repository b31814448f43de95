"""Each data set's example shape and number of classes, without reading any file."""

DATASET_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "mnist": ((784,), 10),
    "fashionmnist": ((784,), 10),
    "digits": ((64,), 10),
    "two-moons": ((2,), 2),
    "two-circles": ((2,), 2),
    "cifar10": ((3, 32, 32), 10),
    "cifar100": ((3, 32, 32), 100),
    "tinyimagenet": ((3, 64, 64), 200),
    "mnist-raw": ((784,), 10),
    "fashionmnist-raw": ((784,), 10),
    "cifar10-raw": ((3, 32, 32), 10),
    "celeba": ((3, 32, 32), 1),
    "iris": ((2,), 3),
    "mnist-parity": ((784,), 2),
}
"""Each dataset's input shape (one example) and number of classes: what synthetic data
for timing and smoke runs is made of, without reading any file."""
