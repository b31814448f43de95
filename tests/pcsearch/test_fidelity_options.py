"""The paper's options and rules: best-epoch bookkeeping, beta > 0, iPC's nudge scale,
the weights' momentum and schedule, and energies per inference step."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pcsearch.algorithms import Nudging, PredictiveCoding, StepInput
from pcsearch.energy import squared_error
from pcsearch.errors import InvalidValueError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import MLP
from pcsearch.optim import WeightOptimizer
from pcsearch.params import missing_paper_values, resolve, sources
from pcsearch.training import RunResult, train
from pcsearch.training.run import _finish_epoch


def test_a_run_that_diverges_keeps_its_best_epoch():
    result = RunResult("t", "pc-se", {}, 0, "accuracy", "maximize")
    finite = {"finite": 1.0}
    _finish_epoch(result, 0, np.array([1.0]), {"accuracy": 0.7, **finite}, 1.0)
    _finish_epoch(result, 1, np.array([1.0]), {"accuracy": 0.9, **finite}, 1.0)
    _finish_epoch(result, 2, np.array([1.0]), {"accuracy": 0.8, **finite}, 1.0)
    assert (result.best_value, result.best_epoch, result.value) == (0.9, 2, 0.8)
    _finish_epoch(result, 3, np.array([np.nan]), {"accuracy": 0.1, **finite}, 1.0)
    assert result.status == "diverged" and result.value is None
    assert (result.best_value, result.best_epoch) == (0.9, 2)
    assert result.reason == "diverged at epoch 4: non-finite energy or weights"


def test_a_minimised_metric_keeps_its_lowest_epoch():
    result = RunResult("t", "pc-se", {}, 0, "mse", "minimize")
    for epoch, mse in enumerate([0.5, 0.2, 0.3]):
        _finish_epoch(result, epoch, np.array([1.0]), {"mse": mse, "finite": 1.0}, 1.0)
    assert (result.best_value, result.best_epoch) == (0.2, 2)


@pytest.mark.parametrize("algorithm", ["pn", "nn", "cn"])
def test_beta_zero_is_refused_with_the_reason_and_the_fix(algorithm: str):
    with pytest.raises(InvalidValueError, match=r"beta=0.0 .*1/beta.*\(0, 1\]"):
        resolve("mlp-two-moons", algorithm, {"beta": 0})


def test_the_papers_bp_defaults_and_a_note_where_it_gives_none():
    assert resolve("mlp-mnist", "bp-ce")["activation"] == "hard_tanh"
    assert resolve("mlp-mnist", "bp-se")["weight_decay"] == pytest.approx(5.12e-3)
    assert resolve("mlp-fashionmnist", "bp-se")["activation"] == "relu"
    assert sources("mlp-fashionmnist", "bp-ce")["weight_lr"] == "paper"
    assert missing_paper_values("mlp-fashionmnist", "bp-ce") is None
    # Fashion-MNIST CN has the code's values (hps/MLP/FashionMNIST/MLP_PC-CN_FashionMNIST.yaml,
    # issue 15); VGG-9 has none anywhere
    assert sources("mlp-fashionmnist", "cn")["state_lr"] == "paper"
    note = missing_paper_values("vgg9-cifar10", "cn")
    assert note is not None and "no best hyperparameters for cn on vgg9-cifar10" in note
    assert sources("vgg9-cifar10", "cn")["state_lr"] == "pcsearch"
    assert missing_paper_values("mlp-digits", "cn") is None  # not one of the paper's tasks


def _ipc_update(beta: float) -> jax.Array:
    """One iPC step (T=1, forward init) with a nudged output and plain SGD on the weights."""
    model = MLP([4, 6, 3], jnp.tanh, key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 4))
    y = jax.nn.one_hot(jnp.arange(5) % 3, 3)
    pc = PredictiveCoding(squared_error, T=1, incremental=True, nudging=Nudging(sign=1))
    hp = TracedHyperparameters.from_params({"state_lr": 0.1, "beta": beta})
    sgd = optax.sgd(1.0)
    state = sgd.init(eqx.filter(model, eqx.is_array))
    batch = StepInput(x, y, jax.random.PRNGKey(2), jnp.int32(0), jax.random.PRNGKey(3))
    new, _, _ = pc.train_step(model, state, sgd, hp, batch)
    return new.layers[-1].weight - model.layers[-1].weight


def test_ipc_with_a_nudged_output_scales_its_weight_gradients_by_one_over_beta():
    """At forward initialisation the output error is beta (y - u): scaled by 1/beta, the
    first step's weight update does not depend on beta. Without the scale it would halve."""
    a, b = _ipc_update(0.5), _ipc_update(0.25)
    assert float(jnp.linalg.norm(a)) > 0.0
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_constant_schedule_and_the_weights_sgd_momentum():
    hp = TracedHyperparameters.from_params(
        {"weight_lr": 0.1, "weight_momentum": 0.9, "weight_decay": 0.0}
    )
    constant = WeightOptimizer("sgd", 100, "constant")
    assert [float(constant.schedule()(n)) for n in (0, 10, 99)] == [1.0, 1.0, 1.0]
    cosine = WeightOptimizer("sgd", 100)
    assert float(cosine.schedule()(10)) == pytest.approx(1.1)
    optimizer = constant.build(hp)
    params = {"w": jnp.zeros(2)}
    state = optimizer.init(params)
    grad = {"w": jnp.ones(2)}
    first, state = optimizer.update(grad, state, params)
    second, _ = optimizer.update(grad, state, params)
    np.testing.assert_allclose(first["w"], -0.1, rtol=1e-6)
    np.testing.assert_allclose(second["w"], -0.1 * (1 + 0.9), rtol=1e-6)


def test_normal_initialisation_uses_init_std():
    model = MLP([4, 64, 64, 3], jnp.tanh, key=jax.random.PRNGKey(0))
    x = jnp.ones((256, 4))
    pc = PredictiveCoding(squared_error, T=1, init="normal")
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(1), 0.1)
    assert float(jnp.std(states[0])) == pytest.approx(0.1, rel=0.05)


def test_energy_trace_records_every_layer_at_every_step():
    result = train("mlp-two-moons", "pc-se", {"epochs": 1, "T": 6}, energy_trace=True)
    trace = np.asarray(result.energy_per_step)
    assert trace.shape == (7, 3)  # T + 1 steps, 2 hidden layers and the output
    np.testing.assert_allclose(trace[0, :-1], 0.0, atol=1e-12)  # forward initialisation
    assert trace[0, -1] > 0.0
    assert trace[-1].sum() < trace[0].sum()  # inference lowers the energy
    assert np.all(trace[1:, 0] > 0.0)  # the error reaches the first layer
    assert train("mlp-two-moons", "bp-se", {"epochs": 1}, energy_trace=True).energy_per_step is None


@pytest.mark.parametrize(("sign", "start"), [(-1, 0.9), (0, 0.9), (1, 0.95)])
def test_a_nudge_that_reaches_magnitude_one_becomes_plain_pc(sign: int, start: float):
    """Appendix B: when |beta| reaches 1 it is set to 1 (negative nudging included)."""
    hp = TracedHyperparameters.from_params({"beta": start, "beta_increment": 0.02})
    nudge = Nudging(sign=sign)
    key = jax.random.PRNGKey(0)
    first = float(nudge.beta(hp, jnp.int32(0), key))
    assert abs(first) == pytest.approx(start) and (sign == 0 or np.sign(first) == sign)
    assert float(nudge.beta(hp, jnp.int32(5), key)) == 1.0
    assert float(nudge.beta(hp, jnp.int32(20), key)) == 1.0
