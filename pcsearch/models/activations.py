"""Activation functions by their hyperparameter names."""

from collections.abc import Callable

import jax
import jax.numpy as jnp

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


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
