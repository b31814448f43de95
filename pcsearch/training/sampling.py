"""Scoring a generative network by its samples (the sampling modes, Section 4.2).

MCPC generates as the paper describes: every state free, the data layer included, noisy
inference for ``T_sample`` steps, and the data layer read out. The score is the MMD between
those samples and the test set (``pcsearch.training.mmd``), lower is better. In the
conditional mode each chain's h_0 is clamped to the label of a test point, chains cycling
through the first test points' labels, and the MMD is taken within each class.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from pcsearch.algorithms import MonteCarloPC
from pcsearch.errors import UnsupportedError
from pcsearch.training.evaluation import Evaluation, Metrics, finite
from pcsearch.training.mmd import mmd

CHAINS = 1024
"""Samples per evaluation, and at most as many test points: the paper's code also draws
1024 MNIST images for its scores."""


class Sampling(Evaluation):
    classes: int = eqx.field(static=True)
    """Width of the one-hot label a conditional network's h_0 is clamped to."""
    chains: int = eqx.field(static=True, default=CHAINS)

    def __call__(self, algorithm, model, hp, x, labels, key) -> Metrics:
        if not isinstance(algorithm, MonteCarloPC):
            raise UnsupportedError(
                f"sampling needs an algorithm that samples (mcpc), not {type(algorithm).__name__}"
            )
        count = min(x.shape[0], self.chains)
        reference, reference_labels = x[:count].reshape(count, -1), labels[:count]
        chain_labels = reference_labels[jnp.arange(self.chains) % count]
        one_hot = jax.nn.one_hot(chain_labels, self.classes, dtype=x.dtype)
        bottom, _ = algorithm.clamping.clamps(x[:0], one_hot)
        samples = algorithm.sample(model, bottom, hp, key, self.chains)
        samples = samples.reshape(self.chains, -1)
        if bottom is None:
            score = mmd(samples, reference)
        else:
            score = mmd(samples, reference, chain_labels, reference_labels, self.classes)
        ok = finite(model) & jnp.all(jnp.isfinite(samples))
        return {"mmd": score, "finite": ok}
