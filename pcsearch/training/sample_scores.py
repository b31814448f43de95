"""Fréchet distance and inception score of generated samples, from a classifier's outputs.

The paper scores its MNIST samples (Section 4.2: FID 2.53 +- 0.17, IS 7.13 +- 0.10) with an
MNIST ResNet-18 of its own in place of Inception. pcsearch computes the same two statistics
with an MNIST classifier that it trains itself (``pcsearch.training.mnist_classifier``), so
its numbers are comparable in kind, not in value, to the paper's.

Both functions are pure JAX on any backend: the matrix square root of FID goes through
symmetric eigendecompositions (``jax.scipy.linalg.sqrtm`` runs on CPUs only).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gaussian_statistics(features: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean [d] and covariance [d, d] (unbiased, as numpy's ``cov``) of [n, d] features."""
    mean = jnp.mean(features, axis=0)
    centred = features - mean
    return mean, centred.T @ centred / (features.shape[0] - 1)


def _psd_sqrt(matrix: jax.Array) -> jax.Array:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = jnp.linalg.eigh(matrix)
    return (vectors * jnp.sqrt(jnp.maximum(values, 0.0))) @ vectors.T


def frechet_distance(a: jax.Array, b: jax.Array) -> jax.Array:
    """FID between the Gaussians fitted to features ``a`` [n, d] and ``b`` [m, d]:
    ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

    tr (S_a S_b)^(1/2) = tr (R S_b R)^(1/2) with R = S_a^(1/2), a symmetric matrix whose
    eigenvalues are those of S_a S_b; 0 for one set against itself, up to rounding.
    """
    mu_a, cov_a = gaussian_statistics(a)
    mu_b, cov_b = gaussian_statistics(b)
    root = _psd_sqrt(cov_a)
    inner = root @ cov_b @ root
    cross = jnp.sum(jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh((inner + inner.T) / 2), 0.0)))
    value = jnp.sum((mu_a - mu_b) ** 2) + jnp.trace(cov_a) + jnp.trace(cov_b) - 2.0 * cross
    return jnp.maximum(value, 0.0)


def inception_score(probabilities: jax.Array, splits: int = 10) -> tuple[jax.Array, jax.Array]:
    """IS = exp(E_x KL(p(y | x) || p(y))) of [n, classes] predicted probabilities, its mean
    and standard deviation over ``splits`` equal parts (as the paper's MNIST scorer, 10;
    a remainder of n mod splits is left out). Between 1 (every prediction the same) and
    the number of classes (confident predictions, every class equally often)."""
    n = probabilities.shape[0] // splits
    if n < 1:
        raise ValueError(f"inception_score needs at least {splits} samples for {splits} splits")
    parts = probabilities[: n * splits].reshape(splits, n, -1)

    def score(p: jax.Array) -> jax.Array:
        marginal = jnp.mean(p, axis=0, keepdims=True)
        kl = jnp.sum(
            p * (jnp.log(jnp.maximum(p, 1e-12)) - jnp.log(jnp.maximum(marginal, 1e-12))), axis=1
        )
        return jnp.exp(jnp.mean(kl))

    scores = jax.vmap(score)(parts)
    return jnp.mean(scores), jnp.std(scores)
