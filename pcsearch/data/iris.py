"""Iris as the MCPC task sees it (Section 4.2, Fig. 4): two features, a bimodal 2-d density.

The paper's code keeps sepal length and petal length (columns 0 and 2 of scikit-learn's
bundled ``load_iris``) and standardises them. Here 50 of the 150 flowers (stratified by
species, seeded) are held out to score samples against, and the statistics come from the
other 100, as for the other bundled sets. The paper's code trains epochs of 150 batches of
150 (every flower 150 times); the 100 training flowers are repeated 225 times to keep that
epoch. Labels are the species (0-2); the generative tasks do not read them.
"""

from __future__ import annotations

import functools

import numpy as np

FEATURES = (0, 2)
"""Sepal length and petal length (cm)."""
TEST_SIZE = 50
REPEATS = 225
"""100 training flowers x 225 = 22500 rows: 150 batches of 150 per epoch."""
_SEED = 0


@functools.cache
def load_iris_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(x_train, y_train, x_test, y_test, classes); x standardised by the training flowers."""
    # Imported here: scikit-learn is slow to import and only the bundled sets need it.
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    bunch = load_iris()
    x, y = bunch.data[:, FEATURES], bunch.target
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=_SEED, stratify=y
    )
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    return np.tile(x_tr, (REPEATS, 1)), np.tile(y_tr, REPEATS), x_te, y_te, 3
