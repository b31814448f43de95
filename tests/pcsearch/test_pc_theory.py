"""Predictive coding against its theory, not only "it runs"."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pcsearch.algorithms import Backprop, PredictiveCoding, StepInput
from pcsearch.energy import squared_error
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import MLP, activation

infer = eqx.filter_jit(PredictiveCoding.infer)


def small_problem(seed: int = 0, sizes=(6, 16, 12, 4), act: str = "tanh", batch: int = 8):
    kx, ky, km = jax.random.split(jax.random.PRNGKey(seed), 3)
    model = MLP(list(sizes), activation(act), key=km)
    x = jax.random.normal(kx, (batch, sizes[0]))
    y = jax.nn.one_hot(jax.random.randint(ky, (batch,), 0, sizes[-1]), sizes[-1])
    return model, x, y


def hp(state_lr: float, momentum: float = 0.0) -> TracedHyperparameters:
    return TracedHyperparameters.from_params(
        {"state_lr": state_lr, "state_momentum": momentum, "weight_lr": 1e-3}
    )


def weight_grads(pc: PredictiveCoding, model: MLP, x, states, target) -> MLP:
    mean_energy = lambda m: jnp.sum(jnp.mean(pc.energies(m, x, states, target), axis=0))
    return eqx.filter_grad(mean_energy)(model)


def bp_grads(model: MLP, x, y) -> MLP:
    return eqx.filter_grad(Backprop(output_loss=squared_error).loss)(model, x, y)


def test_forward_init_zero_hidden_errors_and_last_layer_gradient_equals_backprop():
    model, x, y = small_problem()
    pc = PredictiveCoding(output_loss=squared_error, T=0)
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(1))
    states = pc.infer(model, x, states, y, hp(0.1))
    energies = pc.energies(model, x, states, y)
    np.testing.assert_allclose(energies[:, :-1], 0.0, atol=1e-10)
    assert float(jnp.min(energies[:, -1])) > 0.0
    pc_last = weight_grads(pc, model, x, states, y).layers[-1]
    bp_last = bp_grads(model, x, y).layers[-1]
    np.testing.assert_allclose(pc_last.weight, bp_last.weight, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pc_last.bias, bp_last.bias, rtol=1e-5, atol=1e-7)


def test_energy_does_not_increase_over_inference_for_small_state_lr():
    model, x, y = small_problem(seed=3, act="gelu")
    pc = PredictiveCoding(output_loss=squared_error, T=1)
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(0))
    totals = []
    for _ in range(100):
        totals.append(float(jnp.sum(pc.energies(model, x, states, y))))
        states = infer(pc, model, x, states, y, hp(0.05), steps=1)
    assert totals[-1] < 0.97 * totals[0], "inference should lower the energy"
    increases = np.diff(totals)
    assert np.all(increases <= 1e-6 * totals[0]), f"energy rose: {increases.max()}"


def cosine(a: jax.Array, b: jax.Array) -> float:
    a, b = a.ravel(), b.ravel()
    return float(jnp.dot(a, b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))


def test_pc_at_equilibrium_with_weak_output_precision_matches_backprop():
    """Whittington & Bogacz (2017): PC gradients / precision -> BP gradients."""
    precision = 1e-2
    model, x, y = small_problem(seed=7, sizes=(10, 24, 20, 16, 5), act="tanh", batch=16)
    pc = PredictiveCoding(output_loss=squared_error, T=400, output_precision=precision)
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(0))
    states = infer(pc, model, x, states, y, hp(0.2, momentum=0.5))
    pc_g = weight_grads(pc, model, x, states, y)
    bp_g = bp_grads(model, x, y)
    for index, (p, b) in enumerate(zip(pc_g.layers, bp_g.layers, strict=True)):
        for name in ("weight", "bias"):
            pg, bg = getattr(p, name) / precision, getattr(b, name)
            rel = float(jnp.linalg.norm(pg - bg) / jnp.linalg.norm(bg))
            assert cosine(pg, bg) > 0.999, (index, name, cosine(pg, bg))
            assert rel < 0.05, (index, name, rel)


def update_count(opt_state) -> int:
    counts = optax.tree_utils.tree_get_all_with_path(opt_state, "count")
    return int(counts[0][1])


@pytest.mark.parametrize(("incremental", "expected"), [(False, 1), (True, 5)])
def test_ipc_updates_weights_at_every_inference_step_and_pc_once(incremental, expected):
    model, x, y = small_problem()
    pc = PredictiveCoding(output_loss=squared_error, T=5, incremental=incremental)
    optimizer = optax.adam(0.01)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    batch = StepInput(x, y, jax.random.PRNGKey(0), jnp.int32(0), jax.random.PRNGKey(1))
    new_model, opt_state, _ = pc.train_step(model, opt_state, optimizer, hp(0.1), batch)
    assert update_count(opt_state) == expected
    moved = jnp.linalg.norm(new_model.layers[0].weight - model.layers[0].weight)
    assert float(moved) > 0.0


def test_pc_inference_leaves_the_weights_alone():
    model, x, y = small_problem()
    pc = PredictiveCoding(output_loss=squared_error, T=10)
    before = jax.tree.leaves(eqx.filter(model, eqx.is_array))
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(0))
    pc.infer(model, x, states, y, hp(0.1))
    after = jax.tree.leaves(eqx.filter(model, eqx.is_array))
    assert all(bool(jnp.array_equal(a, b)) for a, b in zip(before, after, strict=True))
