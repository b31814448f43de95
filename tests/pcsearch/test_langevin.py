"""MCPC's state dynamics: the noise of eqs. 4-6, and what Langevin inference samples.

Statistical checks with many independent coordinates or chains and tolerances of several
standard errors, so they hold for any seed yet fail when a scale is off by (1 - m), 2 or
the precision.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pcsearch.algorithms import CONDITIONAL, GENERATIVE, MonteCarloPC, make_algorithm
from pcsearch.algorithms.langevin import langevin
from pcsearch.energy import squared_error
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import MLP


def run(transform: optax.GradientTransformation, grad, h0: jax.Array, steps: int) -> jax.Array:
    """The states after each of ``steps`` updates, [steps, *h0.shape]."""

    def step(carry, _):
        h, state = carry
        updates, state = transform.update(grad(h), state, h)
        h = optax.apply_updates(h, updates)
        return (h, state), h

    _, path = jax.lax.scan(step, (h0, transform.init(h0)), None, length=steps)
    return path


@pytest.mark.parametrize(("gamma", "m", "h_var"), [(0.01, 0.0, 1.0), (0.05, 0.9, 0.3)])
def test_noise_on_a_flat_energy_has_the_variance_of_the_equations(gamma, m, h_var) -> None:
    """No gradient: the first step is the noise alone, gamma^2 * 2 h_var (1 - m) / gamma =
    2 gamma h_var (1 - m) (eq. 4 when m = 0: sqrt(2 gamma) N, N of variance h_var). Later
    steps carry the momentum's sum of past noise: 2 gamma h_var / (1 + m) once settled."""
    n = 50_000
    transform = langevin(gamma, m, h_var, jax.random.PRNGKey(0))
    path = run(transform, jnp.zeros_like, jnp.zeros(n), steps=100)
    steps = np.asarray(jnp.diff(jnp.concatenate([jnp.zeros((1, n)), path]), axis=0))
    first, settled = steps[0].var(), steps[-1].var()
    assert first == pytest.approx(2 * gamma * h_var * (1 - m), rel=0.04)
    assert settled == pytest.approx(2 * gamma * h_var / (1 + m), rel=0.04)
    assert abs(steps[0].mean()) < 5 * np.sqrt(first / n)
    # fresh noise at every step: successive first-order increments are uncorrelated
    if m == 0.0:
        assert abs(np.corrcoef(steps[-1], steps[-2])[0, 1]) < 0.03


@pytest.mark.parametrize("m", [0.0, 0.9])
def test_langevin_samples_a_gaussian_energy(m: float) -> None:
    """F = sum (h - mu)^2 / (2 s^2) at temperature h_var: the chains end in N(mu, h_var s^2),
    with or without momentum (the (1 - m) in the noise keeps the temperature)."""
    mu, s, h_var = jnp.array([1.0, -2.0]), jnp.array([0.5, 2.0]), 0.5
    grad = lambda h: (h - mu) / s**2
    chains = 4000
    transform = langevin(0.02, m, h_var, jax.random.PRNGKey(1))
    end = np.asarray(run(transform, grad, jnp.zeros((chains, 2)), steps=1500)[-1])
    np.testing.assert_allclose(end.mean(axis=0), mu, atol=0.08)
    np.testing.assert_allclose(end.var(axis=0), h_var * np.asarray(s) ** 2, rtol=0.08)


def _hp(**values: float) -> TracedHyperparameters:
    base = {"state_lr": 0.02, "state_momentum": 0.5, "h_var": 1.0, "input_var": 0.25}
    return TracedHyperparameters.from_params(base | values)


def _linear(weight: np.ndarray, bias: np.ndarray) -> MLP:
    """MLP([2, 2]): one linear layer from h_0 to the data, with the given weights."""
    model = MLP([2, 2], jnp.tanh, key=jax.random.PRNGKey(0))
    where = lambda mlp: (mlp.layers[0].weight, mlp.layers[0].bias)
    return eqx.tree_at(where, model, (jnp.asarray(weight), jnp.asarray(bias)))


def test_data_layer_energy_has_precision_one_over_input_var_and_h0_a_unit_prior() -> None:
    model = _linear(np.eye(2, dtype=np.float32), np.zeros(2, np.float32))
    mcpc = MonteCarloPC(output_loss=squared_error, T=1, clamping=GENERATIVE, bottom_precision=1.0)
    h0, x = jnp.array([[1.0, 2.0]]), jnp.array([[0.0, 0.0]])
    energies = mcpc.energies(model, None, (h0,), x, hp=_hp(input_var=0.25))
    # prior 1/2 ||h_0||^2 = 2.5; data 1/2 ||x - h_0||^2 / 0.25 = 10
    np.testing.assert_allclose(np.asarray(energies[0]), [2.5, 10.0], rtol=1e-6)
    with pytest.raises(ValueError, match="input_var"):
        mcpc.energies(model, None, (h0,), x)


def test_sampling_a_linear_gaussian_network_recovers_its_marginal() -> None:
    """h_0 ~ N(0, I) (the prior), x | h_0 ~ N(W h_0 + b, input_var I): MCPC's samples of the
    free data layer's state follow N(b, W W^T + input_var I), and its noise-free prediction
    W h_0 + b follows N(b, W W^T); clamping h_0 to a one-hot label c gives N(W e_c + b,
    input_var I) for the state and exactly W e_c + b for the prediction."""
    weight = np.array([[1.0, 0.0], [0.5, 0.5]], np.float32)
    bias = np.array([0.5, -1.0], np.float32)
    model = _linear(weight, bias)
    params = {"T": 1, "init": "forward", "T_sample": 1000}
    hp, key, chains = _hp(), jax.random.PRNGKey(2), 3000

    mcpc = make_algorithm("mcpc", params, GENERATIVE)
    drawn = mcpc.sample(model, None, hp, key, chains)
    state, prediction = np.asarray(drawn.state), np.asarray(drawn.prediction)
    np.testing.assert_allclose(state.mean(axis=0), bias, atol=0.08)
    expected = weight @ weight.T + 0.25 * np.eye(2)
    np.testing.assert_allclose(np.cov(state.T), expected, rtol=0.1, atol=0.04)
    np.testing.assert_allclose(prediction.mean(axis=0), bias, atol=0.08)
    np.testing.assert_allclose(np.cov(prediction.T), weight @ weight.T, rtol=0.1, atol=0.04)

    conditional = make_algorithm("mcpc", params, CONDITIONAL)
    labels = jax.nn.one_hot(jnp.arange(chains) % 2, 2)
    drawn = conditional.sample(model, labels, hp, key, chains, steps=300)
    state, prediction = np.asarray(drawn.state), np.asarray(drawn.prediction)
    for c in (0, 1):
        mine = state[c::2]
        np.testing.assert_allclose(mine.mean(axis=0), weight[:, c] + bias, atol=0.08)
        np.testing.assert_allclose(mine.var(axis=0), [0.25, 0.25], rtol=0.12)
        np.testing.assert_allclose(prediction[c::2], np.broadcast_to(weight[:, c] + bias,
                                   (chains // 2, 2)), atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("init", ["zeros", "forward"])
def test_sampling_starts_the_data_layer_at_zero_or_at_its_prediction(init: str) -> None:
    """With no step taken, the data layer is where sampling starts it: at zero where every
    state starts at zero (the paper's MNIST code), else at its forward prediction; the
    prediction is read from the states below either way."""
    model = _linear(np.eye(2, dtype=np.float32), np.array([0.5, -1.0], np.float32))
    mcpc = make_algorithm("mcpc", {"T": 1, "init": init, "T_sample": 1}, GENERATIVE)
    drawn = mcpc.sample(model, None, _hp(), jax.random.PRNGKey(0), 4, steps=0)
    start = [0.0, 0.0] if init == "zeros" else [0.5, -1.0]
    np.testing.assert_allclose(np.asarray(drawn.state), np.tile(start, (4, 1)))
    np.testing.assert_allclose(np.asarray(drawn.prediction), np.tile([0.5, -1.0], (4, 1)))
