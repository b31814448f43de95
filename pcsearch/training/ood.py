"""Out-of-distribution detection with a PC classifier's energy (the paper's Appendix F).

The output is clamped to the network's own prediction (no label is known at test time),
the states start at the forward pass and inference runs ``steps`` steps; the energy F of
an example is its negative log-likelihood under the network up to a constant. Energy
before inference (which tracks the softmax) and after it are both scored, against the
baseline of the maximum softmax probability (Hendrycks & Gimpel). A score is larger for
"more out-of-distribution"; AUROC is the probability that a random OOD example scores
above a random in-distribution one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pcsearch.algorithms import PredictiveCoding
from pcsearch.errors import PCSearchError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel

PAPER_STEPS = 100
"""Test-time inference steps of Appendix F (training used T=10)."""


@eqx.filter_jit
def ood_scores(
    algorithm: PredictiveCoding,
    model: PCModel,
    hp: TracedHyperparameters,
    x: jax.Array,
    steps: int,
    key: jax.Array,
) -> dict[str, jax.Array]:
    """Per example: energy before and after inference, and 1 - max softmax."""
    logits = jax.vmap(model)(x)
    target = jax.nn.one_hot(jnp.argmax(logits, axis=-1), logits.shape[-1])
    states, _ = algorithm.init_states(model, x, key, hp.init_std)
    before = jnp.sum(algorithm.energies(model, x, states, target), axis=-1)
    states = algorithm.infer(model, x, states, target, hp, steps=steps)
    after = jnp.sum(algorithm.energies(model, x, states, target), axis=-1)
    softmax = jnp.max(jax.nn.softmax(logits, axis=-1), axis=-1)
    return {"energy_before": before, "energy_after": after, "softmax": 1.0 - softmax}


def auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """P(outside score > inside score), ties counted half: the Mann-Whitney statistic."""
    scores = np.concatenate([inside, outside]).astype(np.float64)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores[order]):  # average ranks of ties
        tied = scores == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    n_in, n_out = len(inside), len(outside)
    return float((ranks[n_in:].sum() - n_out * (n_out + 1) / 2) / (n_in * n_out))


@dataclass
class OODReport:
    in_distribution: str
    out_of_distribution: str
    examples: int
    steps: int
    auroc_energy_before: float
    auroc_energy_after: float
    auroc_softmax: float
    mean_energy_in: float
    mean_energy_out: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def ood_report(
    algorithm: PredictiveCoding,
    model: PCModel,
    hp: TracedHyperparameters,
    inside: jax.Array,
    outside: jax.Array,
    names: tuple[str, str],
    steps: int = PAPER_STEPS,
    key: jax.Array | None = None,
) -> OODReport:
    """Score equal numbers of in- and out-of-distribution examples and compare."""
    if not isinstance(algorithm, PredictiveCoding) or algorithm.clamping.generative:
        raise PCSearchError("OOD detection needs a PC classifier (a discriminative PC algorithm)")
    n = min(len(inside), len(outside))
    key = jax.random.PRNGKey(0) if key is None else key
    a = {
        k: np.asarray(v)
        for k, v in ood_scores(algorithm, model, hp, inside[:n], steps, key).items()
    }
    b = {
        k: np.asarray(v)
        for k, v in ood_scores(algorithm, model, hp, outside[:n], steps, key).items()
    }
    return OODReport(
        in_distribution=names[0],
        out_of_distribution=names[1],
        examples=n,
        steps=steps,
        auroc_energy_before=auroc(a["energy_before"], b["energy_before"]),
        auroc_energy_after=auroc(a["energy_after"], b["energy_after"]),
        auroc_softmax=auroc(a["softmax"], b["softmax"]),
        mean_energy_in=float(np.mean(a["energy_after"])),
        mean_energy_out=float(np.mean(b["energy_after"])),
    )


def shaped_like(kind: str, x: jax.Array, key: jax.Array) -> jax.Array:
    """OOD data made from the in-distribution test set, for when no second data set is at
    hand: ``noise`` (uniform over the data's range) or ``permuted`` (every image's pixels
    in one fixed random order: the same pixel statistics, no digit)."""
    flat = x.reshape(x.shape[0], -1)
    if kind == "noise":
        low, high = jnp.min(x), jnp.max(x)
        return jax.random.uniform(key, x.shape, minval=low, maxval=high)
    if kind == "permuted":
        return flat[:, jax.random.permutation(key, flat.shape[1])].reshape(x.shape)
    raise PCSearchError(f"unknown OOD data {kind!r}; use a data set name, noise or permuted")
