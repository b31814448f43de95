"""MNIST and Fashion-MNIST as the paper's OOD code loads them (Appendix F), where pcsearch's
own ``mnist`` and ``fashionmnist`` follow Table 6.

The code (``examples/s5_analysis_and_metrics/properties_of_PCNs/utils.py`` and
``OOD_energy.py`` in liukidar/pcx v0.6.1) normalises every set with its own mean and std
(torchvision's ``Normalize`` after x/255; Table 6 maps MNIST to [-1, 1] instead), and
trains on 30,000 of MNIST's 60,000 training images, drawn once with numpy's global seed
42. The same files as ``mnist`` and ``fashionmnist`` are read (``pcsearch.data.datasets``).
"""

from __future__ import annotations

import numpy as np

STATS: dict[str, tuple[float, float]] = {
    "mnist": (0.1307, 0.3081),
    "fashionmnist": (0.2860, 0.3530),
}
"""(mean, std) of x/255 per set, as the code's ``get_dataloaders`` normalises it."""
TRAIN_SUBSET = 30_000
"""``train_subset_size`` of OOD_energy.py."""
SUBSET_SEED = 42
"""``set_random_seed(42)`` of OOD_energy.py, which seeds numpy's global generator."""


def code_training_subset(n: int, size: int = TRAIN_SUBSET, seed: int = SUBSET_SEED) -> np.ndarray:
    """The indices of the training images the code trains on, in its order.

    Seeded, the code first calls ``add_label_noise(noise_level=0.0)``, whose
    ``np.random.choice(n, 0, replace=False)`` still draws a permutation of n, then
    ``np.random.choice(n, size, replace=False)``: the first ``size`` of a second
    permutation. A file of fewer than ``size`` images (a test's tiny file) is taken whole.
    """
    rng = np.random.RandomState(seed)
    rng.permutation(n)
    return rng.permutation(n)[: min(size, n)]
