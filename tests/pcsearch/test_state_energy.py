"""Which energy the states descend, per task (issue 15, item 2).

The paper's code computes the batch-mean energy everywhere; most of its scripts then scale
the state gradient back by the batch size (``optim_h.step(..., scale_by_batch_size=True)``:
each example's own energy, pcsearch's ``sum``), but the VGG-19 scripts of Appendix E do not,
so Table 11's state learning rates are rates of the batch mean (``mean``)."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pcsearch.algorithms import PredictiveCoding, make_algorithm
from pcsearch.catalogue import TASKS, TaskInfo
from pcsearch.energy import squared_error
from pcsearch.errors import RegistryError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import MLP
from pcsearch.params import resolve

KEY = jax.random.PRNGKey(0)


def test_the_catalogue_says_which_energy_each_task_assumes_and_where_the_code_says_so():
    for name in ("vgg19-cifar10", "vgg19skip-cifar10"):
        info = TASKS[name]
        assert info.state_energy == "mean" and "vgg19_{skip,noskip}_bestparams.py" in (
            info.state_energy_source or ""
        )
        assert resolve(name, "pc-se")["state_energy"] == "mean"
        assert make_algorithm("pc-se", resolve(name, "pc-se")).state_energy == "mean"
    for name in ("mlp-mnist", "vgg5-cifar10", "vgg7-tinyimagenet", "ae-mnist", "ae-cifar10"):
        info = TASKS[name]
        assert info.state_energy == "sum" and "scale_by_batch_size=True" in (
            info.state_energy_source or ""
        )
        # the default keeps every other run's parameters (and numbers) as they were
        assert "state_energy" not in resolve(name, "pc-se")
        assert make_algorithm("pc-se", resolve(name, "pc-se")).state_energy == "sum"
    for name in ("am-mnist", "am-tinyimagenet"):  # per-example rates: the code's h_lr / 50
        info = TASKS[name]
        assert info.state_energy == "sum" and "divided by 50" in (info.state_energy_source or "")
        assert "memory_cells.json" in (info.defaults_source or "")


def test_a_task_whose_defaults_contradict_its_state_energy_is_refused():
    task = TASKS["mlp-digits"]
    with pytest.raises(RegistryError, match="state_energy"):
        dataclasses.replace(task, defaults={"state_energy": "mean"})
    assert dataclasses.replace(task, state_energy="mean").defaults["state_energy"] == "mean"
    assert isinstance(task, TaskInfo)


@pytest.mark.parametrize("incremental", [False, True], ids=["pc", "ipc"])
def test_mean_is_sum_at_a_batch_size_times_smaller_rate(incremental: bool):
    """SGD with momentum is linear in the gradient: ``mean`` at lr equals ``sum`` at lr/B."""
    model = MLP([6, 5, 4, 3], jnp.tanh, key=KEY)
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 6))
    y = jax.nn.one_hot(jnp.arange(4) % 3, 3)

    def run(energy: str, lr: float):
        pc = PredictiveCoding(squared_error, T=5, incremental=incremental, state_energy=energy)
        hp = TracedHyperparameters.from_params({"state_lr": lr, "state_momentum": 0.5})
        states = pc.init_states(model, x, KEY)[0]
        if not incremental:
            return pc.infer(model, x, states, y, hp)
        weights = optax_sgd()
        _, _, per_layer = pc._incremental(
            model, weights.init(eqx.filter(model, eqx.is_array)), weights, hp, x, states, y, 1.0
        )
        return (per_layer,)

    for a, b in zip(run("mean", 0.4), run("sum", 0.1), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert not np.allclose(run("mean", 0.4)[0], run("sum", 0.4)[0])


def optax_sgd() -> optax.GradientTransformation:
    return optax.sgd(0.01)


# VGG-19's batch-mean scale against the paper's code itself (its states, energies and weight
# gradients after T steps, Table 11's normalisation): tests/pcsearch/test_pcx_equivalence.py.
