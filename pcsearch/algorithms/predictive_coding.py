"""Predictive coding: T inference steps on the states, then a weight update.

One class covers PC-SE, PC-CE, iPC and the nudging variants, in discriminative and
generative mode; they differ only in the pieces named by its fields (output loss, whether
weights move during inference, how the output target is formed, what is clamped).

States are the free layers in order (see ``pcsearch.energy``): h_1..h_{L-1} when the input
is clamped, with h_0 in front when it is free, and h_L at the end when some of its units
are free (associative-memory recall).
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pcsearch.algorithms.base import Algorithm, StepInput, apply_weight_gradient
from pcsearch.algorithms.clamping import DISCRIMINATIVE, Clamping
from pcsearch.energy import OutputLoss, layer_energies
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel
from pcsearch.optim import state_optimizer

States = tuple[jax.Array, ...]


BetaLimit = Literal["plain-pc", "clip"]
BETA_LIMITS: tuple[BetaLimit, ...] = ("plain-pc", "clip")


class Nudging(eqx.Module):
    """The output is clamped to u - beta (u - y), u the forward prediction.

    Weight gradients are divided by beta, so a negative beta (negative nudging) still
    descends the loss. ``sign`` 0 means centered nudging: a random sign per epoch.

    ``beta_limit`` says what happens once |beta| reaches 1. ``plain-pc``: beta is +1, plain
    PC, whatever the sign (Appendix B; the paper's VGG scripts, and its later PC.py that the
    README of its hps/ folder names as the runner of Table 1's configurations). ``clip``:
    beta stays at sign * 1, so negative nudging goes on at -1 (the v0.6.1 MLP scripts, and
    that PC.py for centered nudging's listed betas).
    """

    sign: Literal[-1, 0, 1] = eqx.field(static=True)
    beta_limit: BetaLimit = eqx.field(static=True, default="plain-pc")

    def __post_init__(self) -> None:
        if self.beta_limit not in BETA_LIMITS:
            raise ValueError(
                f"beta_limit={self.beta_limit!r} is not allowed; choose one of: "
                f"{', '.join(BETA_LIMITS)}"
            )

    def beta(self, hp: TracedHyperparameters, epoch: jax.Array, epoch_key: jax.Array):
        """sign * (beta + increment * epoch), its magnitude at most 1; at 1 it is +1
        (``plain-pc``) or sign * 1 (``clip``)."""
        magnitude = hp.beta + hp.beta_increment * epoch
        if self.sign == 0:
            sign = jnp.where(jax.random.bernoulli(epoch_key), 1.0, -1.0)
        else:
            sign = float(self.sign)
        limit = 1.0 if self.beta_limit == "plain-pc" else sign
        return jnp.where(magnitude >= 1.0, limit, sign * magnitude)

    def target(self, prediction: jax.Array, y: jax.Array, beta: jax.Array) -> jax.Array:
        return jax.lax.stop_gradient(prediction - beta * (prediction - y))


class PredictiveCoding(Algorithm):
    output_loss: OutputLoss = eqx.field(static=True)
    T: int = eqx.field(static=True)
    init: Literal["forward", "zeros", "normal"] = eqx.field(static=True, default="forward")
    state_optimizer: Literal["sgd", "adam"] = eqx.field(static=True, default="sgd")
    incremental: bool = eqx.field(static=True, default=False)
    nudging: Nudging | None = eqx.field(static=True, default=None)
    output_precision: float = eqx.field(static=True, default=1.0)
    clamping: Clamping = eqx.field(static=True, default=DISCRIMINATIVE)
    bottom_precision: float = eqx.field(static=True, default=0.0)
    """Precision of a Gaussian prior on a free h_0 (0: none, as the paper's autoencoders)."""
    state_energy: Literal["sum", "mean"] = eqx.field(static=True, default="sum")
    """What the states descend: ``sum``, each example's own energy (the batch sum), or
    ``mean``, the batch-mean energy, whose state gradients are 1/batch_size as large (the
    paper's VGG-19 code: its state lrs are rates of that). Weights always descend the mean."""
    inference_unroll: int | bool = eqx.field(static=True, default=1)
    """The T-step scans' ``unroll`` (the same numbers): XLA on the CPU runs a convolution
    in a loop body far slower than outside one (jax-ml/jax#12868), so the trainer unrolls
    conv models there (``pcsearch.training.epoch_loop``)."""

    def state_gradient_scale(self, batch_size: int) -> float:
        """The factor on each example's own state gradient (static: the batch size is)."""
        return 1.0 / batch_size if self.state_energy == "mean" else 1.0

    def weight_updates_per_batch(self) -> int:
        return self.T if self.incremental else 1

    def output_scale(self, hp: TracedHyperparameters | None) -> jax.Array | float:
        """Precision of the top layer's energy: static here, traced in MCPC (1/input_var)."""
        return self.output_precision

    def state_transform(
        self, hp: TracedHyperparameters, key: jax.Array | None
    ) -> optax.GradientTransformation:
        """How the states follow their gradient (MCPC adds noise, drawn from ``key``)."""
        return state_optimizer(self.state_optimizer, hp)

    def init_states(
        self,
        model: PCModel,
        x: jax.Array | None,
        key: jax.Array,
        init_std: jax.Array | float = 0.1,
        *,
        batch_size: int | None = None,
    ) -> tuple[States, jax.Array]:
        """Initial free states and the forward prediction of the output.

        ``normal`` draws every state from N(0, init_std^2), as the paper's initialisation
        study does (std 0.1). A free h_0 (``x`` None; give ``batch_size``) starts at zero,
        or from that normal, and ``forward`` then predicts the layers above it from there.
        """
        if x is None:
            if batch_size is None:
                raise ValueError("a free bottom state needs batch_size")
            shape = (batch_size, *model.latent_shape)
            key, bottom_key = jax.random.split(key)
            if self.init == "normal":
                bottom = init_std * jax.random.normal(bottom_key, shape)
            else:
                bottom = jnp.zeros(shape)
        else:
            bottom = x
        forward = jax.vmap(model.forward_states)(bottom)
        free_bottom = () if x is not None else (bottom,)
        if self.init == "forward":
            return (*free_bottom, *forward[:-1]), forward[-1]
        shapes = [s.shape for s in forward[:-1]]
        if self.init == "zeros":
            states = tuple(jnp.zeros(s) for s in shapes)
        else:
            keys = jax.random.split(key, max(1, len(shapes)))
            states = tuple(
                init_std * jax.random.normal(k, s) for k, s in zip(keys, shapes, strict=False)
            )
        return (*free_bottom, *states), forward[-1]

    def energies(
        self,
        model: PCModel,
        x: jax.Array | None,
        states: States,
        target: jax.Array,
        first_prediction: jax.Array | None = None,
        top_free: jax.Array | None = None,
        hp: TracedHyperparameters | None = None,
    ) -> jax.Array:
        """Per-example layer energies, [batch, depth] ([batch, depth + 1] with h_0 free)."""
        per_example = partial(
            layer_energies,
            output_loss=self.output_loss,
            output_precision=self.output_scale(hp),
            bottom_precision=self.bottom_precision,
        )
        return jax.vmap(
            lambda xi, si, ti, fi, mi: per_example(
                model, xi, si, ti, first_prediction=fi, top_free=mi
            )
        )(x, states, target, first_prediction, top_free)

    def infer(
        self,
        model: PCModel,
        x: jax.Array,
        states: States,
        target: jax.Array,
        hp: TracedHyperparameters,
        steps: int | None = None,
        top_free: jax.Array | None = None,
        *,
        key: jax.Array | None = None,
    ) -> States:
        """Run inference on the states with the weights fixed.

        Each example's state follows the gradient of its own energy (the batch sum), or
        1/batch_size of it with ``state_energy="mean"``. ``key`` drives noisy state dynamics
        (MCPC); plain PC ignores it.
        """
        steps = self.T if steps is None else steps
        return self._inference(model, x, states, target, hp, steps, False, top_free, key)[0]

    def energy_trace(
        self,
        model: PCModel,
        x: jax.Array,
        y: jax.Array,
        hp: TracedHyperparameters,
        key: jax.Array,
    ) -> jax.Array:
        """Mean energy of every layer at every inference step, [T + 1, depth] (row 0: after
        initialisation), with the weights fixed: the paper's Figs. 6b, 14a and 15a.

        Only called on request, so the training step carries no extra outputs.
        """
        probe = _probe_input(x, y, key)
        bottom, states, prediction = self._start(model, probe, hp)
        target, _ = self.target_and_scale(prediction, hp, probe)
        start = jnp.mean(self.energies(model, bottom, states, target, hp=hp), axis=0)
        noise = jax.random.fold_in(key, 1)
        _, after = self._inference(
            model, bottom, states, target, hp, self.T, record=True, key=noise
        )
        return jnp.concatenate([start[None], after])

    def _start(
        self, model: PCModel, batch: StepInput, hp: TracedHyperparameters
    ) -> tuple[jax.Array | None, States, jax.Array]:
        """The clamped bottom (None: free), the initial states and the forward prediction."""
        bottom, _ = self.clamping.clamps(batch.x, batch.y)
        states, prediction = self.init_states(
            model, bottom, batch.key, hp.init_std, batch_size=batch.x.shape[0]
        )
        return bottom, states, prediction

    def _inference(
        self,
        model: PCModel,
        x: jax.Array,
        states: States,
        target: jax.Array,
        hp: TracedHyperparameters,
        steps: int,
        record: bool,
        top_free: jax.Array | None = None,
        key: jax.Array | None = None,
    ) -> tuple[States, jax.Array | None]:
        """``steps`` state updates; with ``record``, the batch-mean energy of every layer
        after each one ([steps, layers]), else None and nothing extra computed."""
        first = None if x is None else jax.vmap(lambda xi: model.predict(0, [xi]))(x)
        optimizer = self.state_transform(hp, key)

        scale = self.state_gradient_scale(target.shape[0])

        def per_example(s: States) -> jax.Array:
            return self.energies(model, x, s, target, first, top_free, hp)

        def step(carry, _):
            s, opt_state = carry
            grads = jax.grad(lambda t: scale * jnp.sum(per_example(t)))(s)
            updates, opt_state = optimizer.update(grads, opt_state, s)
            s = optax.apply_updates(s, updates)
            return (s, opt_state), (jnp.mean(per_example(s), axis=0) if record else None)

        (states, _), trace = jax.lax.scan(
            step, (states, optimizer.init(states)), None, length=steps, unroll=self.inference_unroll
        )
        return states, trace

    def target_and_scale(
        self, prediction: jax.Array, hp: TracedHyperparameters, batch: StepInput
    ) -> tuple[jax.Array, jax.Array | float]:
        if self.nudging is None:
            return self.clamping.clamps(batch.x, batch.y)[1], 1.0
        beta = self.nudging.beta(hp, batch.epoch, batch.epoch_key)
        return self.nudging.target(prediction, batch.y, beta), 1.0 / beta

    def train_step(
        self,
        model: PCModel,
        opt_state: optax.OptState,
        weight_optimizer: optax.GradientTransformation,
        hp: TracedHyperparameters,
        batch: StepInput,
    ) -> tuple[PCModel, optax.OptState, jax.Array]:
        bottom, states, prediction = self._start(model, batch, hp)
        target, scale = self.target_and_scale(prediction, hp, batch)
        if self.incremental:
            return self._incremental(
                model, opt_state, weight_optimizer, hp, bottom, states, target, scale
            )
        states = self.infer(model, bottom, states, target, hp, key=jax.random.fold_in(batch.key, 1))

        def mean_energy(m: PCModel) -> tuple[jax.Array, jax.Array]:
            per_layer = jnp.mean(self.energies(m, bottom, states, target, hp=hp), axis=0)
            return jnp.sum(per_layer), per_layer

        (_, per_layer), grads = eqx.filter_value_and_grad(mean_energy, has_aux=True)(model)
        grads = jax.tree.map(lambda g: g * scale, grads)
        model, opt_state = apply_weight_gradient(model, grads, opt_state, weight_optimizer)
        return model, opt_state, per_layer

    def _incremental(self, model, opt_state, weight_optimizer, hp, bottom, states, target, scale):
        """iPC: states and weights take a step together at each of the T steps; a nudged
        output scales the weight gradients by 1/beta here too."""
        state_opt = state_optimizer(self.state_optimizer, hp)
        batch_size = target.shape[0]
        state_scale = self.state_gradient_scale(batch_size)

        def mean_energy(m: PCModel, s: States) -> tuple[jax.Array, jax.Array]:
            per_layer = jnp.mean(self.energies(m, bottom, s, target, hp=hp), axis=0)
            return jnp.sum(per_layer), per_layer

        def step(carry, _):
            m, s, w_state, s_state = carry
            (_, per_layer), (g_m, g_s) = eqx.filter_value_and_grad(
                lambda ms: mean_energy(*ms), has_aux=True
            )((m, s))
            g_s = jax.tree.map(lambda g: g * (batch_size * state_scale), g_s)
            g_m = jax.tree.map(lambda g: g * scale, g_m)
            s_updates, s_state = state_opt.update(g_s, s_state, s)
            m, w_state = apply_weight_gradient(m, g_m, w_state, weight_optimizer)
            return (m, optax.apply_updates(s, s_updates), w_state, s_state), per_layer

        init = (model, states, opt_state, state_opt.init(states))
        (model, _, opt_state, _), per_layer = jax.lax.scan(
            step, init, None, length=self.T, unroll=self.inference_unroll
        )
        return model, opt_state, per_layer[-1]


def _probe_input(x: jax.Array, y: jax.Array, key: jax.Array) -> StepInput:
    """A probe batch as a step input: epoch 0, so a nudged target uses beta's start value."""
    return StepInput(x, y, key, jnp.int32(0), key)
