"""The MCPC generator's two layouts: the paper's code's (states before the activation, the
first hidden state's prior around a learned bias, tanh at the data layer) and the text's."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.algorithms import CONDITIONAL, GENERATIVE, make_algorithm
from pcsearch.errors import InvalidValueError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import MLP, build_model
from pcsearch.models.generator import Generator

PARAMS = {
    "hidden_width": 3, "hidden_layers": 2, "latent_dim": 30, "activation": "tanh",
    "layout": "code", "data_activation": "tanh",
}  # fmt: skip
HP = TracedHyperparameters.from_params(
    {"state_lr": 0.01, "state_momentum": 0.9, "h_var": 1.0, "input_var": 0.3}
)


def _build(clamping, classes: int = 2, **overrides) -> Generator | MLP:
    params = PARAMS | overrides
    return build_model("mlp-generator", params, (4,), classes, jax.random.PRNGKey(3), clamping)


def _energies(model, clamping, bottom, states, y) -> np.ndarray:
    mcpc = make_algorithm("mcpc", {"T": 1, "init": "zeros", "T_sample": 1}, clamping)
    return np.asarray(mcpc.energies(model, bottom, states, y, hp=HP))[0]


def test_the_codes_layout_is_its_energy_term_by_term() -> None:
    """Unconditionally: an empty h_0, h_1 ~ N(b_0, I), h_2 ~ N(W_1 f(h_1) + b_1, I) and the
    data ~ N(tanh(W_2 f(h_2) + b_2), input_var I), as mcpc_mnist.py's vodes hold them."""
    model = _build(GENERATIVE)
    assert isinstance(model, Generator) and model.latent_shape == (0,)
    (w0, b0), (w1, b1), (w2, b2) = [
        (np.asarray(x.weight), np.asarray(x.bias)) for x in model.layers
    ]
    assert w0.shape == (3, 0)
    rng = np.random.default_rng(0)
    h1, h2, y = rng.normal(size=3), rng.normal(size=3), rng.uniform(-1, 1, size=4)
    states = (jnp.zeros((1, 0)), jnp.asarray(h1[None]), jnp.asarray(h2[None]))
    got = _energies(model, GENERATIVE, None, states, jnp.asarray(y[None]))
    f = np.tanh
    expected = [
        0.0,
        0.5 * np.sum((h1 - b0) ** 2),
        0.5 * np.sum((h2 - (w1 @ f(h1) + b1)) ** 2),
        0.5 * np.sum((y - np.tanh(w2 @ f(h2) + b2)) ** 2) / 0.3,
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # b_0 is drawn as the code's Linear(30, 256) draws its bias: within 1/sqrt(30)
    assert np.all(np.abs(b0) <= 1 / math.sqrt(30)) and np.any(b0 != 0)


def test_the_codes_conditional_layout_passes_the_label_through_the_activation() -> None:
    """h_1 ~ N(W_0 f(label) + b_0, I): mcpc_mnist_conditional.py applies f to its input."""
    model = _build(CONDITIONAL)
    assert model.latent_shape == (2,)
    w0, b0 = np.asarray(model.layers[0].weight), np.asarray(model.layers[0].bias)
    label, h1 = np.array([0.0, 1.0]), np.array([0.3, -0.2, 0.1])
    states = (jnp.asarray(h1[None]), jnp.zeros((1, 3)))
    got = _energies(model, CONDITIONAL, jnp.asarray(label[None]), states, jnp.zeros((1, 4)))
    assert got.shape == (3,)
    np.testing.assert_allclose(got[0], 0.5 * np.sum((h1 - (w0 @ np.tanh(label) + b0)) ** 2),
                               rtol=1e-5)  # fmt: skip


def test_the_texts_layout_is_pcsearchs_mlp_with_a_latent() -> None:
    """layout=paper-text, data_activation=none: the MLP decoder of earlier runs, the same
    weights from the same key, the same predictions."""
    text = _build(GENERATIVE, layout="paper-text", data_activation="none")
    plain = MLP([30, 3, 3, 4], jnp.tanh, key=jax.random.PRNGKey(3))
    assert text.latent_shape == (30,)
    z = jax.random.normal(jax.random.PRNGKey(1), (30,))
    for a, b in zip(text.forward_states(z), plain.forward_states(z), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    squashed = _build(GENERATIVE, layout="paper-text")
    np.testing.assert_allclose(np.asarray(squashed(z)), np.tanh(np.asarray(plain(z))), rtol=1e-6)


def test_a_run_without_a_layout_builds_the_plain_decoder() -> None:
    """Associative memory (PC, no layout): the MLP it always had."""
    params = {k: v for k, v in PARAMS.items() if k not in ("layout", "data_activation")}
    model = build_model("mlp-generator", params, (4,), 2, jax.random.PRNGKey(0), GENERATIVE)
    assert isinstance(model, MLP) and model.latent_shape == (30,)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"layout": "sideways"}, "layout"), ({"data_activation": "relu"}, "data_activation"),
     ({"hidden_layers": 0}, "hidden_layers")],
)  # fmt: skip
def test_bad_generator_options_name_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(InvalidValueError, match=field):
        _build(GENERATIVE, **overrides)
