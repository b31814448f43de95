"""Activation functions by their hyperparameter names (the choices of ``activation`` in
``pcsearch.catalogue``, checked when this module is imported)."""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from pcsearch.catalogue import ACTIVATIONS as CATALOGUE_ACTIVATIONS
from pcsearch.catalogue.registry import check_registry
from pcsearch.errors import UnknownNameError


def hard_tanh(x: jax.Array) -> jax.Array:
    return jnp.clip(x, -1.0, 1.0)


ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "leaky_relu": jax.nn.leaky_relu,
    "gelu": jax.nn.gelu,
    "tanh": jnp.tanh,
    "hard_tanh": hard_tanh,
    "silu": jax.nn.silu,
}

check_registry(
    "activation",
    ACTIVATIONS,
    CATALOGUE_ACTIVATIONS,
    registry_at="pcsearch.models.activations.ACTIVATIONS",
    catalogue_at="pcsearch/catalogue/hyperparameters.py (ACTIVATIONS)",
)


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
