"""Maximum mean discrepancy: how far generated samples are from held-out data.

The sampling tasks need a score that is computable here for any data (the paper's FID and
inception score read its own MNIST network; pcsearch reports FID and IS from a classifier
of its own beside this, for MNIST only: ``pcsearch.training.sample_scores``): the MMD
between the samples and the test set under a Gaussian (RBF) kernel,
k(a, b) = exp(-||a - b||^2 / (2 s^2)). It is 0 when the two distributions agree (the kernel
is characteristic) and grows as they part.
The bandwidth s is the median distance between test points (the median heuristic), taken
from the test set alone so that every trial of a task is measured with the same kernel.

Class weights give the conditional version: the MMD between the samples and the test
points of each class, averaged over the classes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
    """||a_i - b_j||^2 for [n, d] and [m, d], [n, m]."""
    sq = jnp.sum(a**2, axis=1)[:, None] + jnp.sum(b**2, axis=1)[None, :] - 2.0 * a @ b.T
    return jnp.maximum(sq, 0.0)


def median_bandwidth(reference: jax.Array) -> jax.Array:
    """s^2: the median squared distance between distinct reference points [n, d]."""
    d2 = squared_distances(reference, reference)
    off_diagonal = jnp.where(jnp.eye(d2.shape[0], dtype=bool), jnp.nan, d2)
    return jnp.maximum(jnp.nanmedian(off_diagonal), 1e-12)


def mmd_squared(
    k_xx: jax.Array, k_yy: jax.Array, k_xy: jax.Array, w_x: jax.Array, w_y: jax.Array
) -> jax.Array:
    """MMD^2 between weighted samples (each weight vector sums to 1) from kernel matrices:
    the biased (V-statistic) estimate, so never negative."""
    value = w_x @ k_xx @ w_x + w_y @ k_yy @ w_y - 2.0 * w_x @ k_xy @ w_y
    return jnp.maximum(value, 0.0)


def mmd(
    samples: jax.Array,
    reference: jax.Array,
    sample_labels: jax.Array | None = None,
    reference_labels: jax.Array | None = None,
    classes: int = 1,
) -> jax.Array:
    """MMD (not squared) of [n, d] samples against [m, d] reference points; with labels,
    the mean over the reference's classes of the MMD within each class."""
    s2 = median_bandwidth(reference)
    kernel = lambda a, b: jnp.exp(-squared_distances(a, b) / (2.0 * s2))
    k_xx, k_yy = kernel(samples, samples), kernel(reference, reference)
    k_xy = kernel(samples, reference)
    if sample_labels is None or reference_labels is None:
        sample_labels = jnp.zeros(samples.shape[0], jnp.int32)
        reference_labels = jnp.zeros(reference.shape[0], jnp.int32)
        classes = 1

    def within(c: jax.Array) -> tuple[jax.Array, jax.Array]:
        in_x = (sample_labels == c).astype(samples.dtype)
        in_y = (reference_labels == c).astype(reference.dtype)
        present = (jnp.sum(in_x) > 0) & (jnp.sum(in_y) > 0)
        w_x = in_x / jnp.maximum(jnp.sum(in_x), 1.0)
        w_y = in_y / jnp.maximum(jnp.sum(in_y), 1.0)
        return jnp.sqrt(mmd_squared(k_xx, k_yy, k_xy, w_x, w_y)), present

    values, present = jax.vmap(within)(jnp.arange(classes))
    return jnp.sum(jnp.where(present, values, 0.0)) / jnp.maximum(jnp.sum(present), 1)
