"""The paper's equations, transcribed by hand, against one step of pcsearch.

Eq. 1 of the paper: F = sum_l 1/2 ||h_l - mu_l||^2 with mu_l = f(W_l h_{l-1} + b_l) for the
hidden layers and a linear output layer, h_0 = x clamped and h_L = y clamped. The state
gradients (eq. 3) and the weight gradients are written below in NumPy from those formulas,
never from pcsearch's code.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pcsearch.algorithms import PredictiveCoding
from pcsearch.energy import squared_error
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import MLP


def tanh_prime(a: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(a) ** 2


def paper_quantities(W, b, x, h1, h2, y):
    """Energies, dF/dh and dF/dW, db for the 3-layer network x -> h1 -> h2 -> y."""
    a1, a2 = W[0] @ x + b[0], W[1] @ h1 + b[1]
    mu1, mu2, mu3 = np.tanh(a1), np.tanh(a2), W[2] @ h2 + b[2]
    e1, e2, e3 = h1 - mu1, h2 - mu2, y - mu3
    energies = np.array([0.5 * e1 @ e1, 0.5 * e2 @ e2, 0.5 * e3 @ e3])
    # Each state appears as the target of its own error and as the source of the next one.
    grad_h1 = e1 - W[1].T @ (e2 * tanh_prime(a2))
    grad_h2 = e2 - W[2].T @ e3
    d1, d2, d3 = e1 * tanh_prime(a1), e2 * tanh_prime(a2), e3
    grad_W = [-np.outer(d1, x), -np.outer(d2, h1), -np.outer(d3, h2)]
    grad_b = [-d1, -d2, -d3]
    return energies, (grad_h1, grad_h2), grad_W, grad_b


def test_one_step_matches_the_papers_equations():
    kx, kh1, kh2, km = jax.random.split(jax.random.PRNGKey(11), 4)
    model = MLP([3, 5, 4, 2], jnp.tanh, key=km)
    x = jax.random.normal(kx, (3,))
    h1, h2 = jax.random.normal(kh1, (5,)), jax.random.normal(kh2, (4,))
    y = jnp.array([1.0, 0.0])
    W = [np.asarray(layer.weight, np.float64) for layer in model.layers]
    b = [np.asarray(layer.bias, np.float64) for layer in model.layers]
    expected_e, expected_gh, expected_gW, expected_gb = paper_quantities(
        W, b, *(np.asarray(v, np.float64) for v in (x, h1, h2, y))
    )

    pc = PredictiveCoding(output_loss=squared_error, T=1)
    batch = lambda v: v[None]
    states = (batch(h1), batch(h2))
    energies = pc.energies(model, batch(x), states, batch(y))[0]
    np.testing.assert_allclose(energies, expected_e, rtol=1e-5, atol=1e-6)

    total = lambda s: jnp.sum(pc.energies(model, batch(x), s, batch(y)))
    grad_states = jax.grad(total)(states)
    for got, want in zip(grad_states, expected_gh, strict=True):
        np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-6)

    grads = eqx.filter_grad(lambda m: jnp.sum(pc.energies(m, batch(x), states, batch(y))))(model)
    for layer, gW, gb in zip(grads.layers, expected_gW, expected_gb, strict=True):
        np.testing.assert_allclose(layer.weight, gW, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.bias, gb, rtol=1e-5, atol=1e-6)

    # One inference step of plain SGD: h <- h - gamma dF/dh (eq. 3).
    gamma = 0.1
    hp = TracedHyperparameters.from_params({"state_lr": gamma, "state_momentum": 0.0})
    stepped = pc.infer(model, batch(x), states, batch(y), hp, steps=1)
    for got, start, g in zip(stepped, (h1, h2), expected_gh, strict=True):
        np.testing.assert_allclose(got[0], np.asarray(start) - gamma * g, rtol=1e-5, atol=1e-6)


def test_hidden_states_are_post_activations_and_the_output_is_linear():
    model = MLP([3, 5, 4, 2], jax.nn.relu, key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (3,))
    h1, h2, out = model.forward_states(x)
    assert float(jnp.min(h1)) >= 0.0 and float(jnp.min(h2)) >= 0.0  # relu outputs
    np.testing.assert_allclose(out, model.layers[2].weight @ h2 + model.layers[2].bias, rtol=1e-6)
    np.testing.assert_allclose(out, model(x), rtol=1e-6)
