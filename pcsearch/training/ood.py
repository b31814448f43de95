"""Out-of-distribution detection with a PC classifier's energy (the paper's Appendix F).

As the paper's code (``OOD_energy.py``, see ``pcsearch.catalogue.ood``) scores it: the
first 8,000 test images of the in-distribution set and of each OOD set (Fashion-MNIST,
KMNIST, EMNIST letters, notMNIST), every set normalised by its own statistics.

The output is clamped to the network's own prediction (no label is known at test time),
the states start at the forward pass and inference runs ``steps`` steps; the energy F of
an example is its negative log-likelihood under the network up to a constant. Energy
before inference (which tracks the softmax) and after it are both scored, against the
baseline of the maximum softmax probability (Hendrycks & Gimpel). A score is larger for
"more out-of-distribution"; AUROC is the probability that a random OOD example scores
above a random in-distribution one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pcsearch.algorithms import PredictiveCoding
from pcsearch.catalogue.ood import EXAMPLES, TEST_STEPS
from pcsearch.data import load_dataset
from pcsearch.data.datasets import clear_cache as clear_data_cache
from pcsearch.data.fetch import verify
from pcsearch.errors import PCSearchError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel

PAPER_STEPS = TEST_STEPS
"""Test-time inference steps of Appendix F (training used T=10)."""
PAPER_EXAMPLES = EXAMPLES
"""Examples scored per set, as the code does (its smallest test sets hold 8,000)."""


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
    """One OOD set against the in-distribution test set. Energies are per example, means
    over the ``examples``; ``nll_*`` is the code's NLL of a whole set, the sum of its
    energies after inference (F = -ln p(x, y), Eq. 7)."""

    in_distribution: str
    out_of_distribution: str
    examples: int
    steps: int
    auroc_energy_before: float
    auroc_energy_after: float
    auroc_softmax: float
    energy_before_in: float
    energy_before_out: float
    energy_after_in: float
    energy_after_out: float
    nll_in: float
    nll_out: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _scores(
    algorithm: PredictiveCoding,
    model: PCModel,
    hp: TracedHyperparameters,
    x: jax.Array,
    steps: int,
    key: jax.Array,
) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in ood_scores(algorithm, model, hp, x, steps, key).items()}


def ood_reports(
    algorithm: PredictiveCoding,
    model: PCModel,
    hp: TracedHyperparameters,
    inside: tuple[str, jax.Array],
    outside: Mapping[str, jax.Array],
    steps: int = PAPER_STEPS,
    examples: int | None = PAPER_EXAMPLES,
    key: jax.Array | None = None,
) -> list[OODReport]:
    """Score the first n examples of the in-distribution test set and of every OOD set,
    n the smallest of their sizes and ``examples`` (None: no cap): the code scores the
    first 8,000 of each of its five test sets, in file order. One report per OOD set."""
    if not isinstance(algorithm, PredictiveCoding) or algorithm.clamping.generative:
        raise PCSearchError("OOD detection needs a PC classifier (a discriminative PC algorithm)")
    if not outside:
        raise PCSearchError("no OOD set to score; name one or more, e.g. fashionmnist")
    if examples is not None and examples < 1:
        raise PCSearchError(f"examples={examples} must be at least 1 (the code's: 8000)")
    name, x_in = inside
    n = min(len(x_in), *(len(x) for x in outside.values()))
    n = n if examples is None else min(n, examples)
    key = jax.random.PRNGKey(0) if key is None else key
    a = _scores(algorithm, model, hp, x_in[:n], steps, key)
    reports = []
    for other, x_out in outside.items():
        b = _scores(algorithm, model, hp, x_out[:n], steps, key)
        reports.append(
            OODReport(
                in_distribution=name,
                out_of_distribution=other,
                examples=n,
                steps=steps,
                auroc_energy_before=auroc(a["energy_before"], b["energy_before"]),
                auroc_energy_after=auroc(a["energy_after"], b["energy_after"]),
                auroc_softmax=auroc(a["softmax"], b["softmax"]),
                energy_before_in=float(np.mean(a["energy_before"])),
                energy_before_out=float(np.mean(b["energy_before"])),
                energy_after_in=float(np.mean(a["energy_after"])),
                energy_after_out=float(np.mean(b["energy_after"])),
                nll_in=float(np.sum(a["energy_after"], dtype=np.float64)),
                nll_out=float(np.sum(b["energy_after"], dtype=np.float64)),
            )
        )
    return reports


def load_ood_sets(
    names: Sequence[str], data_dir: str | Path | None, examples: int | None = PAPER_EXAMPLES
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The test inputs (the first ``examples``) of every named data set whose files are
    in the data folder, and for each one that is not, why and how to fix it. Nothing is
    downloaded: a missing set is skipped, not fetched (``pcsearch data fetch NAME``). A
    set whose files are there but damaged raises its loader's DataFormatError."""
    found: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    for name in names:
        missing = [r for r in verify(name, data_dir) if r.status == "missing"]
        if missing:
            paths = ", ".join(str(r.path) for r in missing)
            skipped[name] = (
                f"not in the data folder (missing {paths}); to score it, run `pcsearch data "
                f"fetch {name}` on a machine with internet, copy the folder it fills here (or "
                "point --data-dir at it) and run again"
            )
            continue
        x = load_dataset(name, data_dir).x_test
        found[name] = np.array(x if examples is None else x[:examples])
    clear_data_cache()  # keep the few test images above, not whole training splits
    return found, skipped


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
