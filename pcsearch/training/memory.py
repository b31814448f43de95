"""Associative memory (Section 4.2, Appendix C.3): memorise n images, recall them from cues.

A generative PCN (h_0 free, the image clamped at the top) trains on ``memory_size``
training images drawn at random and is tested on those same images, which is what an
associative memory measures. The paper's code draws them with an unseeded permutation of the
training set; here the run's data seed draws them, so a run is repeatable, members of a
batched run share their images, and runs with different seeds memorise different images
(as the paper's 5 seeds did). The first n images would not do: Tiny ImageNet's training set
is sorted by class, so for n <= 500 they are all of one class.

Each image is corrupted into a cue (Gaussian noise of std 0.2 on every pixel, or its bottom
half removed), the cue goes into the top layer, and inference moves every free unit (the
latent, the hidden layers and the cue's corrupted pixels) for ``T_recall`` steps; the data
layer, clipped to [0, 1], is scored by its MSE against the original. A mask's intact top
half stays clamped throughout.

As in the paper's code (examples/associative_memory/associative_memory.py in liukidar/pcx)
pixels are x/255 in [0, 1] and the network is MLP([latent, d, d, pixels]), tanh hidden
layers and a linear data layer, so Table 3's MSE scale applies. Recall is costly (the paper
runs 50000 steps), so the mode evaluates once, after the last epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pcsearch.algorithms import Algorithm, PredictiveCoding
from pcsearch.catalogue import DATASET_SHAPES, TaskInfo
from pcsearch.data import tinyimagenet
from pcsearch.errors import PCSearchError, UnsupportedError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models.base import PCModel
from pcsearch.training.device_data import DeviceData
from pcsearch.training.evaluation import Evaluation, Metrics, finite

Corruption = Literal["mask", "noise"]
NOISE_STD = 0.2
"""Appendix C.3 and the paper's code: Gaussian noise of standard deviation 0.2."""

_CHANNEL_STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "tinyimagenet": (tinyimagenet.MEAN, tinyimagenet.STD),
}
"""Per-channel (mean, std) the loaders normalise with (Table 6; pcsearch.data.tinyimagenet),
undone here: the paper's memories are x/255. The "-raw" data sets are x/255 already."""


def unit_pixels(dataset: str, x: jax.Array) -> jax.Array:
    """Images [N, C, H, W] or [N, D] of ``dataset`` as x/255 in [0, 1]."""
    if dataset.endswith("-raw"):
        return x
    if dataset in _CHANNEL_STATS:
        mean, std = (jnp.asarray(v, x.dtype)[:, None, None] for v in _CHANNEL_STATS[dataset])
        return x * std + mean
    raise UnsupportedError(
        f"associative memory needs images with pixels in [0, 1]; {dataset!r} is normalised. "
        f"Use a '-raw' data set (e.g. mnist-raw) or one of: {', '.join(_CHANNEL_STATS)}"
    )


def image_shape(dataset: str) -> tuple[int, int, int]:
    """[C, H, W] of one image; flattened grey images are taken as square."""
    shape = DATASET_SHAPES[dataset][0]
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    side = math.isqrt(shape[0])
    if len(shape) != 1 or side * side != shape[0]:
        raise UnsupportedError(
            f"associative memory masks the bottom half of images; {dataset!r} examples of "
            f"shape {shape} are not [C, H, W] or a flattened square image"
        )
    return (1, side, side)


def bottom_half(shape: tuple[int, int, int]) -> np.ndarray:
    """1 on the bottom half of every channel's rows, 0 on the top half; flattened [C*H*W]."""
    channels, height, width = shape
    rows = (np.arange(height) >= height // 2).astype(np.float32)
    return np.broadcast_to(rows[None, :, None], (channels, height, width)).reshape(-1)


SUBSET_STREAM = 2**31 - 2
"""Folded into the data seed's key for the memorised subset: no epoch's order uses it."""


def memory_indices(available: int, n: int, data_seed: int) -> jax.Array:
    """``n`` distinct indices in [0, available), uniformly at random for ``data_seed``."""
    key = jax.random.fold_in(jax.random.PRNGKey(data_seed), SUBSET_STREAM)
    return jax.random.permutation(key, available)[:n]


def memory_data(
    data: DeviceData, task: TaskInfo, params: Mapping[str, Any], data_seed: int = 0
) -> DeviceData:
    """``memory_size`` training images drawn at random by ``data_seed``
    (``memory_indices``), flattened and in [0, 1]: the training set and, unchanged, the set
    recalled at test time."""
    n = int(params["memory_size"])
    available = data.x_train.shape[0]
    if n > available:
        raise PCSearchError(
            f"memory_size={n} is more than the {available} training images available to "
            f"{task.name} (max_batches x batch_size when max_batches is given); choose a "
            f"memory_size of at most {available}, or a larger max_batches"
        )
    chosen = memory_indices(available, n, data_seed)
    images = unit_pixels(task.dataset, data.x_train[chosen]).reshape(n, -1)
    labels = data.y_train[chosen]
    return replace(
        data,
        x_train=images,
        y_train=labels,
        x_test=images,
        labels_test=jnp.argmax(labels, axis=-1).astype(jnp.int32),
    )


def corrupt(
    corruption: Corruption,
    x: jax.Array,
    key: jax.Array,
    shape: tuple[int, int, int],
    noise_std: float = NOISE_STD,
) -> tuple[jax.Array, jax.Array]:
    """(cue, free): the corrupted images [n, D] and which of their pixels recall may move.

    ``noise``: every pixel plus N(0, noise_std^2), all free. ``mask``: the bottom half set to
    0 and free, the top half clamped to the original.
    """
    if corruption == "noise":
        return x + noise_std * jax.random.normal(key, x.shape, x.dtype), jnp.ones_like(x)
    free = jnp.broadcast_to(jnp.asarray(bottom_half(shape), x.dtype), x.shape)
    return x * (1.0 - free), free


def recall(
    algorithm: PredictiveCoding,
    model: PCModel,
    hp: TracedHyperparameters,
    cue: jax.Array,
    free: jax.Array,
    steps: int,
    key: jax.Array,
) -> jax.Array:
    """The recalled images [n, D], clipped to [0, 1]: the latent and hidden states start as
    in training, the data layer at the cue, and ``steps`` inference steps move every free
    unit; clamped pixels are the cue's."""
    states, _ = algorithm.init_states(model, None, key, hp.init_std, batch_size=cue.shape[0])
    states = algorithm.infer(model, None, (*states, cue), cue, hp, steps=steps, top_free=free)
    return jnp.clip(jnp.where(free > 0, states[-1], cue), 0.0, 1.0)


def _mse(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.mean((a - b) ** 2)


class Recall(Evaluation):
    """Memory mode: recall from corrupted cues. ``mse`` is the recalled images' error,
    ``cue_mse`` that of the cue itself (clipped to [0, 1]), the error recall starts from."""

    shape: tuple[int, int, int] = eqx.field(static=True)
    corruption: Corruption = eqx.field(static=True)
    steps: int = eqx.field(static=True)
    noise_std: float = eqx.field(static=True, default=NOISE_STD)

    def __call__(
        self,
        algorithm: Algorithm,
        model: PCModel,
        hp: TracedHyperparameters,
        x: jax.Array,
        labels: jax.Array,
        key: jax.Array,
    ) -> Metrics:
        if not isinstance(algorithm, PredictiveCoding):
            raise UnsupportedError(
                f"recall infers the states of a PC network, not of {type(algorithm).__name__}"
            )
        noise_key, init_key = jax.random.split(key)
        cue, free = corrupt(self.corruption, x, noise_key, self.shape, self.noise_std)
        recalled = recall(algorithm, model, hp, cue, free, self.steps, init_key)
        return {
            "mse": _mse(recalled, x),
            "cue_mse": _mse(jnp.clip(cue, 0.0, 1.0), x),
            "finite": finite(model) & jnp.all(jnp.isfinite(recalled)),
        }


def recall_evaluation(task: TaskInfo, params: Mapping[str, Any]) -> Recall:
    """The task's recall, as its hyperparameters say (``corruption``, ``T_recall``)."""
    return Recall(image_shape(task.dataset), params["corruption"], int(params["T_recall"]))
