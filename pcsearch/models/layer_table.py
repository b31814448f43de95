"""A model as a table of layers, found from the model contract alone and without weights.

``pcsearch tasks show`` prints it so that a researcher can check an architecture before
spending GPU hours. Everything is shape evaluation: the model is built abstractly
(``eqx.filter_eval_shape``, no initialiser runs), each state's shape comes from its
prediction, and a layer's parameters are the weights its ``predict`` reads, found by
tracing that one call (``jax.make_jaxpr``) and seeing which weights the trace uses. So a
skip connection's weights count where they are read (the output's prediction), and no
model needs to describe itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import equinox as eqx
import jax
from jax.extend.core import Var

from pcsearch.models.base import PCModel


@dataclass(frozen=True)
class LayerRow:
    layer: str
    """h0 (the bottom state) .. hL (the output)."""
    modules: str
    """The model's fields whose weights predict this state (``-``: none, the bottom)."""
    output_shape: tuple[int, ...]
    """The shape of the prediction (of the bottom state itself for h0), one example."""
    state: str
    """What the state is while PC trains: ``free``, ``clamped to <what>``, or ``none`` (BP
    has no states: its forward pass only)."""
    parameters: int

    @property
    def state_shape(self) -> tuple[int, ...] | None:
        """The free state's shape, None where it is clamped or there is none."""
        return self.output_shape if self.state == "free" else None


def _abstract(leaf: object) -> bool:
    return isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct))


def parameter_count(model: PCModel) -> int:
    """Every weight of ``model`` (concrete or built by shape evaluation)."""
    return sum(math.prod(x.shape) for x in jax.tree.leaves(eqx.filter(model, _abstract)))


def layer_table(
    model: PCModel,
    bottom_shape: Sequence[int],
    *,
    bottom: str,
    top: str,
    states: bool = True,
) -> list[LayerRow]:
    """One row per state, h0 first. ``bottom``/``top``: what the ends are clamped to (the
    task's ``Clamping``: ``input``, ``label`` or ``free``); ``states`` False: BP (no
    states)."""
    params, static = eqx.partition(model, _abstract)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    names = [jax.tree_util.keystr(path[:-1]).lstrip(".") for path, _ in leaves]
    sizes = [math.prod(leaf.shape) for _, leaf in leaves]
    values = [leaf for _, leaf in leaves]
    predictions = eqx.filter_eval_shape(
        model.forward_states, jax.ShapeDtypeStruct(tuple(bottom_shape), jax.numpy.float32)
    )
    shapes = [tuple(bottom_shape), *(tuple(p.shape) for p in predictions)]

    def state(index: int) -> str:
        end = bottom if index == 0 else top if index == model.depth else None
        if end is not None and end != "free":
            what = "the label" if end == "label" else "the input" if index == 0 else "the data"
            return f"clamped to {what}"
        return "free" if states or (index == 0 and end == "free") else "none"

    rows = [LayerRow("h0", "-", shapes[0], state(0), 0)]
    for index in range(model.depth):
        used = _weights_read(static, treedef, values, shapes[: index + 1], index)
        modules = list(dict.fromkeys(names[i] for i in used))
        rows.append(
            LayerRow(
                f"h{index + 1}",
                " + ".join(modules) or "-",
                shapes[index + 1],
                state(index + 1),
                sum(sizes[i] for i in used),
            )
        )
    return rows


def _weights_read(
    static: PCModel,
    treedef: jax.tree_util.PyTreeDef,
    values: list[jax.ShapeDtypeStruct],
    shapes: list[tuple[int, ...]],
    index: int,
) -> list[int]:
    """Indices into ``values`` of the weights that ``predict(index, ...)`` reads."""

    def predict(weights: list[jax.Array], below: list[jax.Array]) -> jax.Array:
        model = eqx.combine(jax.tree_util.tree_unflatten(treedef, weights), static)
        return model.predict(index, below)

    below = [jax.ShapeDtypeStruct(s, jax.numpy.float32) for s in shapes]
    weights = [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in values]
    jaxpr = jax.make_jaxpr(predict)(weights, below).jaxpr
    read = {v for eqn in jaxpr.eqns for v in eqn.invars if isinstance(v, Var)}
    read |= {v for v in jaxpr.outvars if isinstance(v, Var)}
    return [i for i, v in enumerate(jaxpr.invars[: len(values)]) if v in read]
