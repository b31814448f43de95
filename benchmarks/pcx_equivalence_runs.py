"""The pcx side, part two: the code's training step run in pcx, and the fixture it makes.

``fixture`` runs a family's step (``run_family``: forward or zero initialisation, T
inference steps with the code's state optimiser, the weight gradient of the batch-mean
energy; the associative memory's recall; an MCPC generator's Langevin steps with the noise
of ``draw_noise`` in place of the code's own draws, ``replayed_noise``) in float64 and in
float32 and returns the file's content. Runs under pcx's environment only.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict
from typing import Any

import numpy as np

from benchmarks.pcx_equivalence_families import (
    MEMORY_IMAGE,
    Family,
    GeneratorFamily,
    bottom_half_free,
    checksum,
    draw_batch,
    draw_noise,
    draw_weights,
    summarise,
)
from benchmarks.pcx_equivalence_models import build, layer_objects, set_weights


def run_family(family: Family) -> dict[str, Any]:
    """Run the code's training step (and recall) in pcx; return the fixture's content."""
    import jax
    import jax.numpy as jnp
    import optax
    import pcx
    import pcx.functional as pxf
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc
    import pcx.utils as pxu

    pcx.RKG.seed(0)
    model = build(family)
    dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
    x_np, y_np = (a.astype(dtype) for a in draw_batch(family))
    weights = [w.astype(dtype) for w in draw_weights(family)]
    batch = family.batch

    # Clamps: a classifier takes the input at the bottom and the label at the top; a
    # decoder's top is the data (the code passes the image as its 'example'); a generator
    # takes a constant zero input at the bottom and the data at the top.
    def clamps(x, y):
        if family.kind == "generator":
            return jnp.zeros((x.shape[0], *family.latent_shape), x.dtype), x
        return (x, y) if family.kind == "classifier" else (x, x)

    per_example = pxu.M(pxc.VodeParam | pxc.VodeParam.Cache).to((None, 0))

    @pxf.vmap(per_example, in_axes=(0, 0), out_axes=0)
    def forward(x, y, *, model):
        return model(x, y)

    @pxf.vmap(per_example, in_axes=(0,), out_axes=(None, 0), axis_name="batch")
    def energy(x, *, model):
        inp = None if family.kind == "decoder" else x
        model(inp, None)
        per_vode = jnp.stack([v.energy() for v in model.vodes])
        return jax.lax.pmean(model.energy().sum(), "batch"), per_vode

    def free_states():
        return pxu.M_hasnot(pxc.VodeParam, frozen=True)

    state_scale = float(batch) if family.state_scale == "per-example" else None

    @pxf.jit(static_argnums=0)
    def train_step(T: int, x, y, *, model, optim_h):
        model.train()
        bottom, top = clamps(x, y)
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            forward(bottom, top, model=model)
        optim_h.init(free_states()(model))
        inference = pxf.value_and_grad(free_states().to([False, True]), has_aux=True)(energy)
        for _ in range(T):
            with pxu.step(model, clear_params=pxc.VodeParam.Cache):
                _, g = inference(bottom, model=model)
            optim_h.step(model, g["model"], scale_by=state_scale)
        optim_h.clear()
        learning = pxf.value_and_grad(pxu.M(pxnn.LayerParam).to([False, True]), has_aux=True)
        with pxu.step(model, clear_params=pxc.VodeParam.Cache):
            (_, per_vode), g = learning(energy)(bottom, model=model)
        grads = []  # as the code's weight optimiser gets them: times 1/beta
        for layer in layer_objects(g["model"], family):
            grads += [layer.nn.weight.get() / family.beta, layer.nn.bias.get() / family.beta]
        states = [v.h.get() for v in model.vodes[:-1]]
        return per_vode, states, grads

    @pxf.jit(static_argnums=0)
    def incremental_step(T: int, x, y, *, model, optim_h, optim_w):
        """The code's iPC step: at each of the T steps one gradient of the energy moves the
        states and the weights together."""
        model.train()
        bottom, top = clamps(x, y)
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            forward(bottom, top, model=model)
        optim_h.init(free_states()(model))
        both = (free_states() | pxnn.LayerParam).to([False, True])
        step = pxf.value_and_grad(both, has_aux=True)(energy)
        for _ in range(T):
            with pxu.step(model, clear_params=pxc.VodeParam.Cache):
                (_, per_vode), g = step(bottom, model=model)
            optim_h.step(model, g["model"], scale_by=state_scale)
            optim_w.step(model, g["model"], scale_by=1.0 / family.beta)
        optim_h.clear()
        return per_vode, [v.h.get() for v in model.vodes[:-1]]

    optim_h = pxu.Optim(lambda: state_optimizer(family, dtype))
    with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
        forward(*clamps(jnp.asarray(x_np), jnp.asarray(y_np)), model=model)
    set_weights(layer_objects(model, family), weights)

    if family.weight_lr > 0:
        # iPC: what the test compares is the last step's energies (before its update) and
        # the sum of the T weight gradients, (w_0 - w_T) / lr; the states are the last ones.
        optim_w = pxu.Optim(lambda: optax.sgd(family.weight_lr))
        optim_w.init(pxu.M(pxnn.LayerParam)(model))
        per_vode, states = incremental_step(
            family.T, x_np, y_np, model=model, optim_h=optim_h, optim_w=optim_w
        )
        after = [
            np.asarray(p.get(), np.float64)
            for layer in layer_objects(model, family)
            for p in (layer.nn.weight, layer.nn.bias)
        ]
        grads = [(w - a) / family.weight_lr for w, a in zip(weights, after, strict=True)]
    else:
        per_vode, states, grads = train_step(family.T, x_np, y_np, model=model, optim_h=optim_h)
    result: dict[str, Any] = {
        "energies": np.asarray(per_vode, np.float64).reshape(batch, -1).tolist(),
        "states": [summarise(f"state/{i}", np.asarray(s)) for i, s in enumerate(states)],
        "grads": [summarise(f"grad/{i}", np.asarray(g)) for i, g in enumerate(grads)],
    }
    if family.recall_T:
        result["recall"] = _recall(family, model, x_np, energy, forward, free_states)
    return result


def state_optimizer(family: Family, dtype):
    """The code's state optimiser: SGD with momentum, or for a generator its ``sgdld`` (the
    Gaussian noise of ``optax.add_noise(eta, 0, seed)``, then ``trace`` and the learning
    rate) with the draws of ``draw_noise`` replayed in place of the seeded ones."""
    import optax

    from benchmarks.pcx_equivalence_noise import replayed_noise

    lr = family.state_lr if family.run_lr is None else family.run_lr
    if not isinstance(family, GeneratorFamily):
        return optax.sgd(lr, momentum=family.state_momentum)
    h_var = family.h_var if family.run_h_var is None else family.run_h_var
    eta = 2 * h_var * (1 - family.state_momentum) / lr  # sgdld's variance
    noise = [n.astype(dtype) for n in draw_noise(family)]
    return optax.chain(
        replayed_noise(math.sqrt(eta), noise),
        optax.trace(decay=family.state_momentum, nesterov=False),
        optax.scale_by_learning_rate(lr),
    )


def _recall(family: Family, model, x_np, energy, forward, free_states) -> dict[str, Any]:
    """The code's unmask_on_batch: the cue (bottom half zeroed) at the top, the top vode made
    free, each step followed by resetting the clamped top half; the result clipped to [0, 1]."""
    import jax.numpy as jnp
    import optax
    import pcx.functional as pxf
    import pcx.predictive_coding as pxc
    import pcx.utils as pxu

    free = jnp.asarray(bottom_half_free(MEMORY_IMAGE))
    cue = jnp.asarray(x_np) * (1.0 - free)
    optim_h = pxu.Optim(lambda: optax.sgd(family.state_lr, momentum=family.state_momentum))

    @pxf.jit(static_argnums=0)
    def unmask(T: int, cue, *, model, optim_h):
        model.eval()
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            forward(cue, cue, model=model)
        model.vodes[-1].h.frozen = False
        optim_h.init(free_states()(model))
        inference = pxf.value_and_grad(free_states().to([False, True]), has_aux=True)(energy)
        for _ in range(T):
            with pxu.step(model, clear_params=pxc.VodeParam.Cache):
                _, g = inference(cue, model=model)
            optim_h.step(model, g["model"])
            top = model.vodes[-1].h.get()
            model.vodes[-1].h.set(jnp.where(free > 0, top, cue))
        optim_h.clear()
        return jnp.clip(model.vodes[-1].h.get(), 0.0, 1.0)

    recalled = unmask(family.recall_T, cue, model=model, optim_h=optim_h)
    model.vodes[-1].h.frozen = True
    return summarise("recall", np.asarray(recalled))


def versions() -> dict[str, str]:
    from importlib.metadata import version

    import jax

    out = {name: version(name) for name in ("pcx", "equinox", "optax", "numpy")}
    out["jax"] = jax.__version__
    out["python"] = sys.version.split()[0]
    out["device"] = str(jax.devices()[0].platform)
    return out


def fixture(family: Family) -> dict[str, Any]:
    """The family's file: the float64 run (the reference) and the float32 run, whose distance
    from it is pcx's own float32 round-off on every statistic (the test's noise scale)."""
    import jax

    x, y = draw_batch(family)
    noise = draw_noise(family)
    spec = asdict(family)
    jax.config.update("jax_enable_x64", False)
    single = run_family(family)
    jax.config.update("jax_enable_x64", True)
    double = run_family(family)
    jax.config.update("jax_enable_x64", False)
    return {
        "family": spec,
        "versions": versions(),
        "weights": {
            "order": [
                [f"{i}/{layer.kind}/{part}", list(shape)]
                for i, layer in enumerate(family.layers)
                for part, shape in (("weight", layer.weight_shape()), ("bias", layer.bias_shape()))
            ],
            "checksum": checksum(draw_weights(family)),
        },
        "batch_checksum": checksum([x, y]),
        **({"noise_checksum": checksum(noise)} if noise else {}),
        **double,
        "float32": _statistics_only(single),
    }


def _statistics_only(run: dict[str, Any]) -> dict[str, Any]:
    """A run's summaries without their (shared) positions and shapes."""

    def strip(summary: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in summary.items() if k not in ("positions", "shape")}

    out: dict[str, Any] = {"energies": run["energies"]}
    out["states"] = [strip(s) for s in run["states"]]
    out["grads"] = [strip(g) for g in run["grads"]]
    if "recall" in run:
        out["recall"] = strip(run["recall"])
    return out
