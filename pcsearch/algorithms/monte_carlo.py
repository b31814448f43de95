"""Monte Carlo predictive coding (MCPC; the paper's Section 4.2 and Appendix C.2).

PC whose inference is Langevin dynamics (``pcsearch.algorithms.langevin``): the states
sample the posterior given the clamped data instead of settling at its mode, and the
weights then take one step on the energy of that single sample (Monte Carlo EM). Two things
differ from PC besides the noise:

* the data layer's squared error is divided by ``input_var`` (sigma^2_{h_L}), a traced
  hyperparameter, so it is a precision read from ``hp`` rather than a static field;
* a free h_0 has a standard normal prior (``bottom_precision`` 1), as the first layer of the
  paper's code has (a unit-variance Gaussian around a constant prediction).

After training, ``sample`` leaves every state free, the data layer too, and records the
data layer after ``T_sample`` noisy steps: samples of the learned p(x) (or p(x | label)).

The Langevin momentum starts at zero for every batch, as the states do (the paper's code
carries it over from the previous batch's unrelated states).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms.langevin import langevin
from pcsearch.algorithms.predictive_coding import PredictiveCoding
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel


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
    ) -> jax.Array:
        """``count`` samples of the data layer, [count, *data shape].

        ``bottom`` is None for unconditional generation (h_0 free) or the [count, ...]
        labels h_0 is clamped to. Every other state starts as in training (the data layer
        at its prediction) and all move, the data layer included, for ``steps`` (default
        ``T_sample``) Langevin steps.
        """
        steps = self.T_sample if steps is None else steps
        init_key, noise_key = jax.random.split(key)
        states, prediction = self.init_states(
            model, bottom, init_key, hp.init_std, batch_size=count
        )
        free = jnp.ones_like(prediction)
        states = self.infer(
            model,
            bottom,
            (*states, prediction),
            jnp.zeros_like(prediction),
            hp,
            steps=steps,
            top_free=free,
            key=noise_key,
        )
        return states[-1]
