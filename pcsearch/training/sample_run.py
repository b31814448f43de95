"""Train an MCPC task and keep the samples its final evaluation scored (Section 4.2, Fig. 4).

``train_and_sample`` is ``train`` on the task's defaults (the same plan, epochs and
evaluation) that, once training ends, draws the samples of the last epoch's evaluation
again with that evaluation's own key: the very chains its MMD (and, on real MNIST, its
``fid_ours`` / ``inception_score_ours``) was computed on, up to float round-off between
two compiled programs. They come back with the test points they are scored against and the
distinct training examples, as NumPy arrays, for plots and files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from pcsearch.errors import UnsupportedError
from pcsearch.training.epoch import EVAL_KEY
from pcsearch.training.records import RunResult
from pcsearch.training.run import EpochCallback, Plan, train
from pcsearch.training.sampling import Drawn, Sampling

TRAINING_EXAMPLES = 1024
"""At most this many distinct training examples are kept beside the samples (all 100 of
iris's training flowers; the first 1024 MNIST digits)."""


@dataclass(frozen=True)
class SampleRun:
    """A trained MCPC run and the samples of its final evaluation."""

    result: RunResult
    samples: np.ndarray
    """[chains, *data shape]: what the task's evaluation scored."""
    test: np.ndarray
    """[count, *data shape]: the test points the samples were scored against."""
    train: np.ndarray
    """[n, *data shape]: distinct training examples (what the network learned from)."""
    scores: dict[str, float]
    """The evaluation's metrics on ``samples`` (``mmd``; ``fid_ours`` etc. on real MNIST)."""
    data_shape: tuple[int, ...]


@eqx.filter_jit
def _draw_and_score(
    evaluation: Sampling, algorithm, model, hp, x, labels, key
) -> tuple[Drawn, dict[str, jax.Array]]:
    drawn = evaluation.draw(algorithm, model, hp, x, labels, key)
    return drawn, evaluation.score(drawn, model, x)


def _distinct_training_examples(x: np.ndarray, limit: int) -> np.ndarray:
    """The training set's first rows up to its first repeat (iris repeats its 100 flowers
    to make the code's epoch), at most ``limit``."""
    x = x[:limit]
    flat = x.reshape(x.shape[0], -1)
    repeats = np.flatnonzero(np.all(flat == flat[0], axis=1)[1:])
    return x if repeats.size == 0 else x[: repeats[0] + 1]


def train_and_sample(
    task: str,
    overrides: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    data_dir: str | Path | None = None,
    synthetic: bool = False,
    max_batches: int | None = None,
    on_epoch: EpochCallback | None = None,
) -> SampleRun:
    """Train ``task`` with MCPC (its defaults, ``overrides`` on top) and keep the samples
    of its last evaluation. Raises ``UnsupportedError`` for a task that is not scored by
    sampling (an MCPC task's mode)."""
    kept: list[tuple[Plan, Any, Any]] = []
    result = train(
        task,
        "mcpc",
        overrides,
        seed=seed,
        data_dir=data_dir,
        synthetic=synthetic,
        max_batches=max_batches,
        on_epoch=on_epoch,
        on_finish=lambda plan, model, hp: kept.append((plan, model, hp)),
    )
    ((plan, model, hp),) = kept
    evaluation = plan.evaluation
    if not isinstance(evaluation, Sampling):
        raise UnsupportedError(
            f"--task {task} is scored by {type(evaluation).__name__}, not by sampling; "
            "choose an MCPC task (mcpc-iris, mcpc-mnist, mcpc-mnist-conditional)"
        )
    # the key ``evaluate`` gave the last epoch's evaluation (see pcsearch.training.epoch)
    run_key = plan.new_model_and_state(seed)[3]
    epoch = len(result.history) - 1
    key = jax.random.fold_in(jax.random.fold_in(run_key, EVAL_KEY), epoch)
    data = plan.data
    drawn, scores = _draw_and_score(
        evaluation, plan.algorithm, model, hp, data.x_test, data.labels_test, key
    )
    shape = tuple(data.x_test.shape[1:])
    samples = np.asarray(drawn.samples).reshape(-1, *shape)
    return SampleRun(
        result=result,
        samples=samples,
        test=np.asarray(drawn.reference).reshape(-1, *shape),
        train=_distinct_training_examples(np.asarray(data.x_train), TRAINING_EXAMPLES),
        scores={k: float(v) for k, v in scores.items() if k != "finite"},
        data_shape=shape,
    )
