"""Clamping as data: the same energies and inference for every mode.

A discriminative network clamps the input at h_0; a generative one leaves h_0 free (the
first state, with an optional Gaussian prior) and clamps the data at the top; recall
frees some units of the top layer through a mask.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pcsearch.algorithms import CONDITIONAL, GENERATIVE, PredictiveCoding, StepInput
from pcsearch.catalogue import HYPERPARAMETERS, check_supported
from pcsearch.energy import squared_error
from pcsearch.errors import UnsupportedError
from pcsearch.hyperparams import TRACED_NAMES, TracedHyperparameters
from pcsearch.models import MLP


def hp(state_lr: float = 0.1) -> TracedHyperparameters:
    return TracedHyperparameters.from_params({"state_lr": state_lr, "weight_lr": 1e-3})


def decoder(seed: int = 0) -> MLP:
    return MLP([3, 8, 6], jnp.tanh, key=jax.random.PRNGKey(seed))


def data(batch: int = 4) -> jax.Array:
    return jax.random.normal(jax.random.PRNGKey(9), (batch, 6))


def test_a_free_bottom_is_the_first_state_and_has_its_prior_energy() -> None:
    model, x = decoder(), data()
    pc = PredictiveCoding(
        squared_error, T=1, init="zeros", clamping=GENERATIVE, bottom_precision=2.0
    )
    states, _ = pc.init_states(model, None, jax.random.PRNGKey(0), batch_size=4)
    assert [s.shape for s in states] == [(4, 3), (4, 8)]
    latent = jax.random.normal(jax.random.PRNGKey(1), (4, 3))
    states = (latent, states[1])
    energies = pc.energies(model, None, states, x)
    assert energies.shape == (4, 3)  # prior, hidden, data
    np.testing.assert_allclose(energies[:, 0], jnp.sum(latent**2, axis=1), rtol=1e-6)
    mu1 = jax.vmap(lambda z: model.predict(0, [z]))(latent)
    np.testing.assert_allclose(energies[:, 1], 0.5 * jnp.sum(mu1**2, axis=1), rtol=1e-5)


def test_generative_inference_moves_the_latent_and_lowers_the_energy() -> None:
    model, x = decoder(), data()
    pc = PredictiveCoding(squared_error, T=50, init="zeros", clamping=GENERATIVE)
    states, _ = pc.init_states(model, None, jax.random.PRNGKey(0), batch_size=4)
    before = float(jnp.sum(pc.energies(model, None, states, x)))
    after_states = pc.infer(model, None, states, x, hp())
    after = float(jnp.sum(pc.energies(model, None, after_states, x)))
    assert float(jnp.linalg.norm(after_states[0])) > 0.0
    assert after < 0.9 * before


def test_a_generative_training_step_uses_the_data_as_the_target() -> None:
    """The clamping decides what goes where: the labels play no part in a generative step."""
    model, x = decoder(), data()
    pc = PredictiveCoding(squared_error, T=3, init="zeros", clamping=GENERATIVE)
    opt = optax.sgd(0.1)
    state = opt.init(jax.tree.map(lambda a: a, model))
    key = jax.random.PRNGKey(0)
    run = lambda y: pc.train_step(model, state, opt, hp(), StepInput(x, y, key, jnp.int32(0), key))
    _, _, energies_a = run(jnp.zeros((4, 2)))
    _, _, energies_b = run(jnp.ones((4, 7)))
    np.testing.assert_allclose(energies_a, energies_b)
    assert energies_a.shape == (3,)


def test_a_conditional_network_clamps_the_label_at_the_bottom() -> None:
    model, x = decoder(), data()
    labels = jax.nn.one_hot(jnp.array([0, 1, 2, 0]), 3)
    pc = PredictiveCoding(squared_error, T=1, clamping=CONDITIONAL)
    bottom, target = CONDITIONAL.clamps(x, labels)
    assert bottom is labels and target is x
    states, prediction = pc.init_states(model, bottom, jax.random.PRNGKey(0))
    assert len(states) == 1
    np.testing.assert_allclose(prediction, jax.vmap(model)(labels), rtol=1e-6)


def test_a_masked_top_keeps_its_clamped_half_and_infers_the_rest() -> None:
    model, x = decoder(), data()
    pc = PredictiveCoding(squared_error, T=30, init="zeros", clamping=GENERATIVE)
    mask = jnp.zeros_like(x).at[:, 3:].set(1.0)  # the last three units are free
    key = jnp.where(mask > 0, 0.0, x)
    states, _ = pc.init_states(model, None, jax.random.PRNGKey(0), batch_size=4)
    states = (*states, key)
    # With the free units equal to the target, the energy is the clamped one.
    same = pc.energies(model, None, states, key, top_free=mask)
    clamped = pc.energies(model, None, states[:-1], key)
    np.testing.assert_allclose(same, clamped, rtol=1e-6)
    recalled = pc.infer(model, None, states, key, hp(), top_free=mask)[-1]
    top = jnp.where(mask > 0, recalled, key)
    np.testing.assert_array_equal(top[:, :3], x[:, :3])
    assert float(jnp.max(jnp.abs(recalled[:, 3:]))) > 0.0


def test_the_traced_hyperparameters_are_the_catalogues() -> None:
    traced = {n for n, h in HYPERPARAMETERS.items() if h.traced}
    assert set(TRACED_NAMES) == traced
    assert {"h_var", "input_var", "state_lr"} <= traced
    values = TracedHyperparameters.from_params({"h_var": 0.3})
    assert float(values.h_var) == pytest.approx(0.3)


def test_an_algorithm_a_task_cannot_train_with_is_refused_with_the_choices() -> None:
    check_supported("mlp-mnist", "pc-se")
    with pytest.raises(UnsupportedError, match="choose one of: .*pc-se"):
        check_supported("mlp-mnist", "mcpc")
