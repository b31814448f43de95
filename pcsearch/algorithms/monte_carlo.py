"""Monte Carlo predictive coding (MCPC; the paper's Section 4.2 and Appendix C.2).

PC whose inference is Langevin dynamics (``pcsearch.algorithms.langevin``): the states
sample the posterior given the clamped data instead of settling at its mode, and the
weights then take one step on the energy of that single sample (Monte Carlo EM). Two things
differ from PC besides the noise:

* the data layer's squared error is divided by ``input_var`` (sigma^2_{h_L}), a traced
  hyperparameter, so it is a precision read from ``hp`` rather than a static field;
* a free h_0 has a standard normal prior (``bottom_precision`` 1), as the first layer of the
  paper's code has (a unit-variance Gaussian around a constant prediction).

After training, ``sample`` leaves every state free, the data layer too, runs ``T_sample``
noisy steps and returns both readings of the data layer: its noisy state h_L and the
noise-free prediction mu_L of the states below it. The paper's MNIST scripts report the
prediction (their ``vodes[-1].get("u")``), its iris script the state (``get("h")``); the
sampling evaluation picks one (``sample_from``).

The Langevin momentum starts at zero for every batch, as the states do (the paper's code
carries it over from the previous batch's unrelated states).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms.langevin import langevin
from pcsearch.algorithms.predictive_coding import PredictiveCoding
from pcsearch.energy import split_states
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel


class Samples(NamedTuple):
    """The free data layer after sampling, [count, *data shape] each."""

    state: jax.Array
    """h_L itself: the prediction plus the Langevin noise of a variance-``input_var`` layer."""
    prediction: jax.Array
    """mu_L, the data layer's prediction from the final states below it: no pixel noise."""


class MonteCarloPC(PredictiveCoding):
    T_sample: int = eqx.field(static=True, default=10_000)
    """Noisy steps with every state free when generating (the paper: 10000)."""

    def output_scale(self, hp: TracedHyperparameters | None) -> jax.Array:
        if hp is None:
            raise ValueError("MCPC's data-layer precision is 1/input_var: pass hp to energies")
        return self.output_precision / hp.input_var

    def state_transform(
        self, hp: TracedHyperparameters, key: jax.Array | None
    ) -> optax.GradientTransformation:
        if key is None:
            raise ValueError("MCPC's Langevin inference draws noise: pass a key to infer")
        return langevin(hp.state_lr, hp.state_momentum, hp.h_var, key)

    def sample(
        self,
        model: PCModel,
        bottom: jax.Array | None,
        hp: TracedHyperparameters,
        key: jax.Array,
        count: int,
        steps: int | None = None,
    ) -> Samples:
        """``count`` samples of the data layer (its state and its prediction).

        ``bottom`` is None for unconditional generation (h_0 free) or the [count, ...]
        labels h_0 is clamped to. Every other state starts as in training, and the data
        layer at its prediction, or at zero with ``init="zeros"`` (the paper's MNIST code
        sets every state, the data layer's too, to zero); all move, the data layer
        included, for ``steps`` (default ``T_sample``) Langevin steps.
        """
        steps = self.T_sample if steps is None else steps
        init_key, noise_key = jax.random.split(key)
        states, prediction = self.init_states(
            model, bottom, init_key, hp.init_std, batch_size=count
        )
        top = jnp.zeros_like(prediction) if self.init == "zeros" else prediction
        free = jnp.ones_like(prediction)
        states = self.infer(
            model,
            bottom,
            (*states, top),
            jnp.zeros_like(prediction),
            hp,
            steps=steps,
            top_free=free,
            key=noise_key,
        )
        predict = jax.vmap(lambda b, s: _data_prediction(model, b, s))
        return Samples(states[-1], predict(bottom, states))


def _data_prediction(model: PCModel, bottom: jax.Array | None, states) -> jax.Array:
    """mu_L of one example from its states (h_0 first when free, the data layer last)."""
    h0, hidden, _ = split_states(bottom, states, jnp.ones(()))
    return model.predict(model.depth - 1, [h0, *hidden])
