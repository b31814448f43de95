"""Scoring a generative network by its samples (the sampling modes, Section 4.2).

MCPC generates as the paper's code does: every state free, the data layer included, noisy
inference for ``T_sample`` steps, then the data layer read out: its noise-free prediction
(``sample_from="prediction"``, the code's MNIST scripts) or its noisy state (``"state"``,
its iris script). MNIST samples are then clipped to the pixel range [-1, 1], as the code
clips x/2 + 0.5 to [0, 1] (a tanh data layer never leaves it; a linear one can).

The task's score is the MMD between the samples and the test set (``pcsearch.training.mmd``),
lower is better. MNIST samples from real runs also get an FID and an inception score from
pcsearch's own MNIST classifier (``with_digit_scores``), reported beside the MMD as
``fid_ours``, ``inception_score_ours`` and ``inception_score_ours_std``: ours, so
comparable in kind, not in value, to the paper's FID 2.53 +- 0.17 and IS 7.13 +- 0.10. FID
is taken against the whole test set, as the paper's code takes it against MNIST's.

In the conditional mode each chain's h_0 is clamped to the label of a test point, chains
cycling through the first test points' labels, and the MMD is taken within each class (FID
and IS over all samples, as the code scores its conditional samples).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from pcsearch.algorithms import MonteCarloPC
from pcsearch.catalogue import TaskInfo
from pcsearch.errors import InvalidValueError, UnsupportedError
from pcsearch.training.evaluation import Evaluation, Metrics, finite
from pcsearch.training.mmd import mmd
from pcsearch.training.mnist_classifier import DigitClassifier, mnist_classifier
from pcsearch.training.sample_scores import frechet_distance, inception_score

CHAINS = 1024
"""Samples per evaluation, and at most as many test points: the paper's code also draws
1024 MNIST images for its scores."""

IS_SPLITS = 10
"""The inception score's mean and std are over 10 parts of the samples (the paper's code)."""

DIGIT_DATASETS = frozenset({"mnist", "mnist-parity"})
"""Data sets whose examples are MNIST digits with pixels in [-1, 1] (pcsearch's loader):
their samples are clipped to that range and scored by the MNIST classifier."""

SAMPLE_FROM = ("prediction", "state")


class Drawn(NamedTuple):
    """What a sampling evaluation draws: the samples and the test points they are scored
    against, flattened to [count, features], with the labels of each."""

    samples: jax.Array
    reference: jax.Array
    labels: jax.Array
    """The label each chain's h_0 is clamped to (cycling through the reference's)."""
    reference_labels: jax.Array
    conditional: bool
    """Whether h_0 was clamped to the labels (the MMD is then taken within each class)."""


class Sampling(Evaluation):
    classes: int = eqx.field(static=True)
    """Width of the one-hot label a conditional network's h_0 is clamped to."""
    chains: int = eqx.field(static=True, default=CHAINS)
    noise_free: bool = eqx.field(static=True, default=True)
    """True: a sample is the data layer's prediction; False: its noisy state."""
    clip: tuple[float, float] | None = eqx.field(static=True, default=None)
    """The data's value range that samples are clipped to (None: not clipped)."""
    classifier: DigitClassifier | None = None
    """pcsearch's MNIST classifier for FID and IS (None: the MMD alone)."""

    def __call__(self, algorithm, model, hp, x, labels, key) -> Metrics:
        return self.score(self.draw(algorithm, model, hp, x, labels, key), model, x)

    def draw(self, algorithm, model, hp, x, labels, key) -> Drawn:
        """The samples this evaluation scores and the test points it scores them against."""
        if not isinstance(algorithm, MonteCarloPC):
            raise UnsupportedError(
                f"sampling needs an algorithm that samples (mcpc), not {type(algorithm).__name__}"
            )
        count = min(x.shape[0], self.chains)
        reference, reference_labels = x[:count].reshape(count, -1), labels[:count]
        chain_labels = reference_labels[jnp.arange(self.chains) % count]
        one_hot = jax.nn.one_hot(chain_labels, self.classes, dtype=x.dtype)
        bottom, _ = algorithm.clamping.clamps(x[:0], one_hot)
        drawn = algorithm.sample(model, bottom, hp, key, self.chains)
        samples = (drawn.prediction if self.noise_free else drawn.state).reshape(self.chains, -1)
        if self.clip is not None:
            samples = jnp.clip(samples, *self.clip)
        return Drawn(samples, reference, chain_labels, reference_labels, bottom is not None)

    def score(self, drawn: Drawn, model, x) -> Metrics:
        """The MMD of ``drawn`` (within each class where conditional), FID and IS where
        there is a classifier, and whether the model and samples are finite."""
        samples, reference = drawn.samples, drawn.reference
        if drawn.conditional:
            score = mmd(samples, reference, drawn.labels, drawn.reference_labels, self.classes)
        else:
            score = mmd(samples, reference)
        ok = finite(model) & jnp.all(jnp.isfinite(samples))
        return {"mmd": score, **self.digit_scores(samples, x), "finite": ok}

    def digit_scores(self, samples: jax.Array, test: jax.Array) -> Metrics:
        """FID against the whole test set and IS (mean, std over ``IS_SPLITS`` parts), from
        pcsearch's MNIST classifier; nothing without one."""
        if self.classifier is None:
            return {}
        net = self.classifier
        test = test.reshape(test.shape[0], -1)
        fid = frechet_distance(jax.vmap(net.features)(samples), jax.vmap(net.features)(test))
        probabilities = jax.nn.softmax(jax.vmap(net)(samples), axis=-1)
        is_mean, is_std = inception_score(probabilities, IS_SPLITS)
        return {
            "fid_ours": fid,
            "inception_score_ours": is_mean,
            "inception_score_ours_std": is_std,
        }


def sampling_evaluation(task: TaskInfo, classes: int, params: Mapping[str, Any]) -> Sampling:
    """The task's sampling evaluation: its ``sample_from`` reading, MNIST samples clipped to
    [-1, 1]; no classifier yet (``with_digit_scores`` adds it for real data)."""
    read = params["sample_from"]
    if read not in SAMPLE_FROM:
        raise InvalidValueError(
            f"sample_from={read!r} is not a reading of the data layer; choose one of: "
            f"{', '.join(SAMPLE_FROM)}"
        )
    clip = (-1.0, 1.0) if task.dataset in DIGIT_DATASETS else None
    return Sampling(classes, noise_free=read == "prediction", clip=clip)


def with_digit_scores(
    evaluation: Evaluation, task: TaskInfo, data_dir: str | Path | None
) -> Evaluation:
    """``evaluation`` with pcsearch's MNIST classifier where the task's samples are MNIST
    digits (trained on real MNIST from ``data_dir`` on first use, then read from the cache).
    Only for real data: synthetic runs keep the MMD alone."""
    if not isinstance(evaluation, Sampling) or task.dataset not in DIGIT_DATASETS:
        return evaluation
    return eqx.tree_at(
        lambda s: s.classifier,
        evaluation,
        mnist_classifier(data_dir),
        is_leaf=lambda leaf: leaf is None,
    )
