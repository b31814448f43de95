"""How a trained network is scored on the test set, one evaluation per kind of task.

An evaluation is a static module called with the algorithm, the model, the traced
hyperparameters and the whole test set (on the device); it returns scalar metrics, one
of them the task's metric, plus ``finite`` (whether every weight is finite).
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from pcsearch.algorithms import Algorithm, PredictiveCoding
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel

Metrics = dict[str, jax.Array]


def finite(model: PCModel) -> jax.Array:
    leaves = jax.tree.leaves(eqx.filter(model, eqx.is_array))
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in leaves]))


class Evaluation(eqx.Module):
    @abc.abstractmethod
    def __call__(
        self,
        algorithm: Algorithm,
        model: PCModel,
        hp: TracedHyperparameters,
        x: jax.Array,
        labels: jax.Array,
        key: jax.Array,
    ) -> Metrics: ...


class Classification(Evaluation):
    """Discriminative mode: a forward pass; top-1 (and top-k) accuracy."""

    top_k: int = eqx.field(static=True, default=1)

    def __call__(self, algorithm, model, hp, x, labels, key) -> Metrics:
        logits = jax.vmap(model)(x)
        metrics = {"accuracy": jnp.mean(jnp.argmax(logits, axis=-1) == labels)}
        if self.top_k > 1:
            best = jax.lax.top_k(logits, self.top_k)[1]
            hit = jnp.any(best == labels[:, None], axis=-1)
            metrics[f"top{self.top_k}_accuracy"] = jnp.mean(hit)
        return metrics | {"finite": finite(model)}


class Reconstruction(Evaluation):
    """Generative mode: the data's reconstruction, mean squared error per pixel.

    PC infers the latent h_0 of each test image with the image clamped at the top (T
    steps, the training inference) and reconstructs it by a forward pass from that latent
    (the paper's Section 4.2); a BP autoencoder maps the image through itself.
    """

    def __call__(self, algorithm, model, hp, x, labels, key) -> Metrics:
        return {"mse": jnp.mean((reconstruct(algorithm, model, hp, x, key) - x) ** 2)} | {
            "finite": finite(model)
        }


def reconstruct(
    algorithm: Algorithm, model: PCModel, hp: TracedHyperparameters, x: jax.Array, key: jax.Array
) -> jax.Array:
    """Reconstructions of ``x`` [batch, *data shape], in the data's shape."""
    if isinstance(algorithm, PredictiveCoding):
        states, _ = algorithm.init_states(model, None, key, hp.init_std, batch_size=x.shape[0])
        states = algorithm.infer(model, None, states, x, hp)
        out = jax.vmap(model)(states[0])
    else:
        out = jax.vmap(model)(x)
    return out.reshape(x.shape)
