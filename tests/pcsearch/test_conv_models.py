"""Convolutional models under the shared model contract: shapes, inference lowers the
energy on CIFAR-shaped data, PC at T=0 and at weak output precision against BP, and a
short run of a VGG-5 task on synthetic data."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.algorithms import Backprop, PredictiveCoding
from pcsearch.energy import squared_error
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import VGG, PCModel, build_model
from pcsearch.training import train

infer = eqx.filter_jit(PredictiveCoding.infer)


def tiny_vgg(seed: int = 0, classes: int = 5) -> VGG:
    """Two conv blocks on 3x8x8 images: small enough to reach equilibrium on a CPU."""
    return VGG((3, 8, 8), classes, (4, 6), (1, 1), jnp.tanh, key=jax.random.PRNGKey(seed))


def batch(seed: int = 1, n: int = 6, classes: int = 5):
    kx, ky = jax.random.split(jax.random.PRNGKey(seed))
    x = jax.random.normal(kx, (n, 3, 8, 8))
    return x, jax.nn.one_hot(jax.random.randint(ky, (n,), 0, classes), classes)


def hp(state_lr: float, momentum: float = 0.0) -> TracedHyperparameters:
    return TracedHyperparameters.from_params({"state_lr": state_lr, "state_momentum": momentum})


def test_vgg5_follows_table_5_and_the_contract():
    model = build_model("vgg5", {"activation": "gelu"}, (3, 32, 32), 100, jax.random.PRNGKey(0))
    assert isinstance(model, PCModel) and model.depth == 5
    states = model.forward_states(jnp.zeros((3, 32, 32)))
    assert [s.shape for s in states] == [(128, 16, 16), (256, 8, 8), (512, 4, 4), (512, 1, 1),
                                         (100,)]  # fmt: skip
    assert [c.padding for c in model.convs][-1] == ((0, 0), (0, 0))


def test_vgg7_pools_where_the_papers_code_does():
    model = build_model("vgg7", {"activation": "gelu"}, (3, 32, 32), 10, jax.random.PRNGKey(0))
    shapes = [s.shape for s in model.forward_states(jnp.zeros((3, 32, 32)))]
    assert shapes == [(128, 16, 16), (128, 16, 16), (256, 8, 8), (256, 6, 6), (512, 3, 3),
                      (512, 1, 1), (10,)]  # fmt: skip


def test_inference_lowers_the_energy_on_cifar_shaped_data():
    model = VGG((3, 32, 32), 10, (8, 8, 16), (1, 1, 1), jax.nn.gelu, key=jax.random.PRNGKey(3))
    x = jax.random.normal(jax.random.PRNGKey(4), (4, 3, 32, 32))
    y = jax.nn.one_hot(jnp.arange(4), 10)
    pc = PredictiveCoding(output_loss=squared_error, T=1)
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(0))
    totals = []
    for _ in range(20):
        totals.append(float(jnp.sum(pc.energies(model, x, states, y))))
        states = infer(pc, model, x, states, y, hp(0.05), steps=1)
    assert totals[-1] < 0.9 * totals[0]
    assert np.all(np.diff(totals) <= 1e-6 * totals[0])


def grads(pc: PredictiveCoding, model, x, states, y):
    energy = lambda m: jnp.sum(jnp.mean(pc.energies(m, x, states, y), axis=0))
    return eqx.filter_grad(energy)(model)


def test_t0_output_layer_gradient_equals_backprop_for_a_conv_net():
    model, (x, y) = tiny_vgg(), batch()
    pc = PredictiveCoding(output_loss=squared_error, T=0)
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(0))
    pc_head = grads(pc, model, x, states, y).head
    bp_head = eqx.filter_grad(Backprop(output_loss=squared_error).loss)(model, x, y).head
    np.testing.assert_allclose(pc_head.weight, bp_head.weight, rtol=1e-5, atol=1e-7)


def test_a_conv_net_at_equilibrium_with_weak_output_precision_matches_backprop():
    precision = 1e-2
    model, (x, y) = tiny_vgg(seed=2), batch(seed=5)
    pc = PredictiveCoding(output_loss=squared_error, T=300, output_precision=precision)
    states, _ = pc.init_states(model, x, jax.random.PRNGKey(0))
    states = infer(pc, model, x, states, y, hp(0.2, momentum=0.5))
    pc_g = grads(pc, model, x, states, y)
    bp_g = eqx.filter_grad(Backprop(output_loss=squared_error).loss)(model, x, y)
    for p, b in zip(jax.tree.leaves(pc_g), jax.tree.leaves(bp_g), strict=True):
        pg = np.asarray(p).ravel() / precision
        bg = np.asarray(b).ravel()
        cosine = pg @ bg / (np.linalg.norm(pg) * np.linalg.norm(bg))
        assert cosine > 0.99, cosine


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["pc-ce", "bp-ce"])
def test_one_vgg5_epoch_on_synthetic_data_runs_and_says_so(algorithm: str):
    extra = {"T": 2} if algorithm.startswith("pc") else {}
    result = train(
        "vgg5-cifar100", algorithm, {"epochs": 1, "batch_size": 8, **extra},
        synthetic=True, max_batches=2,
    )  # fmt: skip
    assert result.status == "completed" and result.synthetic
    assert 0.0 <= result.value <= 1.0
    assert "top5_accuracy" in result.history[0].extra
    assert len(result.history[0].energy_per_layer) == (5 if algorithm == "pc-ce" else 1)
