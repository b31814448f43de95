"""A multilayer perceptron that a PC network and a BP network can share.

The paper's convention: every state is a post-activation, predicted from the state below
as mu_{l+1} = f(W_l h_l + b_l); the output layer is linear and the clamped input h_0 = x
enters as it is. The forward pass is the usual MLP, so BP trains the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax

from pcsearch.models.base import forward_states


class MLP(eqx.Module):
    layers: tuple[eqx.nn.Linear, ...]
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)

    def __init__(
        self,
        sizes: list[int],
        activation: Callable[[jax.Array], jax.Array],
        *,
        key: jax.Array,
    ) -> None:
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            eqx.nn.Linear(i, o, key=k) for i, o, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )
        self.activation = activation

    @property
    def depth(self) -> int:
        """Number of weight layers, which is also the number of predicted layers."""
        return len(self.layers)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The shape of h_0, when the MLP is a generative network's decoder (h_0 free)."""
        return (self.layers[0].in_features,)

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        """Prediction mu_{index+1} = f(W_index h_index + b_index) from the state below (the
        input, flattened, when index == 0); the last layer's prediction is linear (the
        logits)."""
        below = states[index].reshape(-1) if index == 0 else states[index]
        pre = self.layers[index](below)
        return pre if index == self.depth - 1 else self.activation(pre)

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        """Every layer's state in a forward pass, output (logits) last."""
        return forward_states(self, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.forward_states(x)[-1]
