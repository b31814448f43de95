"""The MLP generator of the MCPC tasks (Appendix C.2) and of associative memory (C.3).

Two layouts of the MCPC generator, chosen by the ``layout`` hyperparameter (parsed here):

``code`` (the default: liukidar/pcx v0.6.1, examples/s4_2_generative_mode/generation_mcpc/):
    states hold values *before* the activation, each predicted as mu_{l+1} = W_l f(h_l) + b_l,
    the data layer as mu_L = g(W f(h_{L-1}) + b) with g = ``data_activation`` (tanh in the
    MNIST scripts, none for iris). Unconditionally the code feeds a constant zero input, so
    its first hidden state's prior is N(b_0, I) around a learned bias: here h_0 is *empty*
    (zero units, nothing to sample, no energy of its own) and mu_1 = b_0. Conditionally h_0
    is the one-hot label, passed through f as the code does. ``hidden_layers`` counts every
    hidden state, the biased one included (MNIST: 4 of 256; iris: 2 of 64).
``paper-text`` (the paper's text, Appendix C.2: [30 x 256 x 256 x 256 x 784]):
    pcsearch's ``MLP`` read top-down, states after the activation, a free ``latent_dim``-wide
    h_0 with the standard normal prior MCPC gives it (``bottom_precision``), then g.

A run without ``layout`` (associative memory, which trains with PC) builds the plain
``MLP`` decoder it always had.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp

from pcsearch.errors import InvalidValueError
from pcsearch.models.activations import activation
from pcsearch.models.base import forward_states
from pcsearch.models.mlp import MLP

if TYPE_CHECKING:
    from pcsearch.algorithms.clamping import Clamping

LAYOUTS = ("code", "paper-text")
DATA_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "none": lambda x: x,
    "tanh": jnp.tanh,
}


class Generator(eqx.Module):
    """An MLP generator in either layout (see the module docstring); the PCModel contract."""

    layers: tuple[eqx.nn.Linear, ...]
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)
    data_activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True)
    pre_activation: bool = eqx.field(static=True)
    """True: the code's layout, mu = W f(h) + b; False: the text's, mu = f(W h + b)."""

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """A free h_0's shape: (0,) in the code's unconditional layout (no latent)."""
        return (self.layers[0].in_features,)

    def predict(self, index: int, states: Sequence[jax.Array]) -> jax.Array:
        below = states[index].reshape(-1) if index == 0 else states[index]
        last = index == self.depth - 1
        if self.pre_activation:
            pre = self.layers[index](self.activation(below))
            return self.data_activation(pre) if last else pre
        pre = self.layers[index](below)
        return self.data_activation(pre) if last else self.activation(pre)

    def forward_states(self, x: jax.Array) -> list[jax.Array]:
        return forward_states(self, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.forward_states(x)[-1]


def code_generator(
    sizes: Sequence[int],
    act: Callable[[jax.Array], jax.Array],
    data_act: Callable[[jax.Array], jax.Array],
    *,
    input_width: int,
    key: jax.Array,
) -> Generator:
    """The code's layout for sizes [h_0 width (0: none), hidden..., data].

    Weights are drawn as the code's layers draw them (Equinox's Linear, U(+-1/sqrt(fan_in)));
    with an empty h_0, b_0 is drawn as the bias of the code's Linear(``input_width``, ...)
    on its zero input (MNIST: 30), the only part of that layer its outputs ever see.
    """
    keys = jax.random.split(key, len(sizes))
    layers = [
        eqx.nn.Linear(i, o, key=k) for i, o, k in zip(sizes[:-1], sizes[1:], keys, strict=False)
    ]
    if sizes[0] == 0:
        limit = 1.0 / math.sqrt(input_width)
        bias = jax.random.uniform(keys[-1], (sizes[1],), minval=-limit, maxval=limit)
        layers[0] = eqx.tree_at(lambda layer: layer.bias, layers[0], bias)
    return Generator(tuple(layers), act, data_act, pre_activation=True)


def _choice(params: Mapping[str, Any], name: str, choices: Sequence[str]) -> str:
    value = params[name]
    if value not in choices:
        raise InvalidValueError(
            f"{name}={value!r} is not a generator option; choose one of: {', '.join(choices)}"
        )
    return value


def build_generator(
    params: Mapping[str, Any],
    data_shape: Sequence[int],
    num_classes: int,
    key: jax.Array,
    clamping: Clamping | None,
) -> MLP | Generator:
    """The generator for data of ``data_shape``; h_0 is the one-hot label where the clamping
    puts the label at the bottom (``num_classes`` units), else the free latent."""
    pixels = math.prod(int(n) for n in data_shape)
    conditional = clamping is not None and clamping.bottom == "label"
    hidden = [int(params["hidden_width"])] * int(params["hidden_layers"])
    act = activation(params["activation"])
    if "layout" not in params:  # associative memory: the plain decoder
        bottom = num_classes if conditional else int(params["latent_dim"])
        return MLP([bottom, *hidden, pixels], act, key=key)
    layout = _choice(params, "layout", LAYOUTS)
    data_act = DATA_ACTIVATIONS[_choice(params, "data_activation", tuple(DATA_ACTIVATIONS))]
    if layout == "code":
        if not hidden:
            raise InvalidValueError(
                "layout='code' needs hidden_layers >= 1: its first hidden state carries the "
                "learned-bias prior; set hidden_layers (the code's MNIST: 4) or layout='paper-text'"
            )
        bottom = num_classes if conditional else 0
        sizes = [bottom, *hidden, pixels]
        return code_generator(sizes, act, data_act, input_width=int(params["latent_dim"]), key=key)
    bottom = num_classes if conditional else int(params["latent_dim"])
    mlp = MLP([bottom, *hidden, pixels], act, key=key)
    return Generator(mlp.layers, act, data_act, pre_activation=False)
