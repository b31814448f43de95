"""pcsearch's own MNIST classifier: what its FID and inception score of MCPC samples read.

The paper scores MNIST samples with an MNIST ResNet-18 whose weights ship with its code
(examples/s4_2_generative_mode/generation_mcpc/pytorch_fid/checkpoints in liukidar/pcx).
pcsearch neither ships nor runs that network: it trains a small MLP of its own on real
MNIST (pcsearch's loader: pixels in [-1, 1]) the first time a score is asked for, and caches
the weights under the cache directory keyed by a hash of the recipe, so every later run
(and every worker) scores with the same network. FID reads its penultimate layer, IS its
softmax. Numbers from it are comparable in kind to the paper's, not in value.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pcsearch.compile_cache import default_cache_dir


@dataclass(frozen=True)
class ClassifierRecipe:
    """Everything that decides the classifier's weights; its hash names the cache file."""

    dataset: str = "mnist"
    """Which of pcsearch's data sets it learns (its training split)."""
    inputs: int = 784
    classes: int = 10
    hidden: tuple[int, ...] = (256, 128)
    """ReLU layers; the last one's 128 units are the features FID compares."""
    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    version: int = 1
    """Raised whenever the training code changes what a recipe produces."""

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


MNIST_RECIPE = ClassifierRecipe()


class DigitClassifier(eqx.Module):
    """An MLP classifier: ``features`` (the penultimate layer) and ``__call__`` (logits)."""

    layers: tuple[eqx.nn.Linear, ...]

    def __init__(self, recipe: ClassifierRecipe, *, key: jax.Array) -> None:
        sizes = [recipe.inputs, *recipe.hidden, recipe.classes]
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            eqx.nn.Linear(i, o, key=k) for i, o, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )

    def features(self, x: jax.Array) -> jax.Array:
        """The penultimate layer's activity for one flattened image."""
        h = x.reshape(-1)
        for layer in self.layers[:-1]:
            h = jax.nn.relu(layer(h))
        return h

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.layers[-1](self.features(x))


def train_classifier(recipe: ClassifierRecipe, x: np.ndarray, y: np.ndarray) -> DigitClassifier:
    """Adam on the cross-entropy, ``recipe.epochs`` shuffled passes over (x, integer y)."""
    key, init_key = jax.random.split(jax.random.PRNGKey(recipe.seed))
    model = DigitClassifier(recipe, key=init_key)
    x = jnp.asarray(x, jnp.float32).reshape(x.shape[0], -1)
    y = jnp.asarray(y, jnp.int32)
    optimizer = optax.adam(recipe.learning_rate)
    batches = x.shape[0] // recipe.batch_size
    if batches < 1:
        raise ValueError(
            f"the classifier's batch_size={recipe.batch_size} exceeds its {x.shape[0]} examples"
        )

    def loss(m: DigitClassifier, xb: jax.Array, yb: jax.Array) -> jax.Array:
        logits = jax.vmap(m)(xb)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], 1))

    @eqx.filter_jit
    def epoch(m: DigitClassifier, state, k: jax.Array):
        order = jax.random.permutation(k, x.shape[0])[: batches * recipe.batch_size]
        order = order.reshape(batches, recipe.batch_size)

        def step(carry, idx):
            m, state = carry
            grads = eqx.filter_grad(loss)(m, x[idx], y[idx])
            updates, state = optimizer.update(grads, state, m)
            return (eqx.apply_updates(m, updates), state), None

        (m, state), _ = jax.lax.scan(step, (m, state), order)
        return m, state

    state = optimizer.init(eqx.filter(model, eqx.is_array))
    for k in jax.random.split(key, recipe.epochs):
        model, state = epoch(model, state, k)
    return model


@eqx.filter_jit
def _logits(model: DigitClassifier, x: jax.Array) -> jax.Array:
    return jax.vmap(model)(x)


def accuracy(model: DigitClassifier, x: np.ndarray, y: np.ndarray) -> float:
    logits = _logits(model, jnp.asarray(x, jnp.float32).reshape(x.shape[0], -1))
    return float(jnp.mean(jnp.argmax(logits, axis=1) == jnp.asarray(y)))


def classifier_dir(cache_dir: str | Path | None = None) -> Path:
    """``<cache>/classifiers``; the cache is ``$PCSEARCH_CACHE_DIR`` or ~/.cache/pcsearch, the
    folder that also holds JAX's compilation cache."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir().parent
    return root / "classifiers"


def cached_classifier(
    recipe: ClassifierRecipe,
    load: Callable[[], tuple[np.ndarray, np.ndarray]],
    cache_dir: str | Path | None = None,
    *,
    check: Callable[[DigitClassifier], dict[str, float]] | None = None,
) -> DigitClassifier:
    """The recipe's classifier from the cache, or trained on ``load()`` = (x, y) and cached.

    ``check(model)`` (e.g. the test accuracy) is written beside the weights, for people.
    A cache that cannot be written (a read-only folder) only costs a retraining next time.
    """
    folder = classifier_dir(cache_dir)
    path = folder / f"{recipe.dataset}-{recipe.digest()}.eqx"
    skeleton = DigitClassifier(recipe, key=jax.random.PRNGKey(0))
    if path.is_file():
        return eqx.tree_deserialise_leaves(path, skeleton)
    model = train_classifier(recipe, *load())
    about = {"recipe": asdict(recipe), **(check(model) if check is not None else {})}
    _save(path, model, about)
    return model


def _save(path: Path, model: DigitClassifier, about: dict) -> None:
    """Write atomically (a temporary file renamed) so that workers racing never read half."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError:
        return
    os.close(fd)
    try:
        eqx.tree_serialise_leaves(tmp, model)
        os.replace(tmp, path)
        path.with_suffix(".json").write_text(json.dumps(about, indent=1) + "\n")
    except OSError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def mnist_classifier(
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    recipe: ClassifierRecipe = MNIST_RECIPE,
) -> DigitClassifier:
    """pcsearch's MNIST classifier (``recipe`` on real MNIST from ``data_dir``), cached."""
    from pcsearch.data import load_dataset

    def load() -> tuple[np.ndarray, np.ndarray]:
        d = load_dataset(recipe.dataset, data_dir)
        return d.x_train, d.y_train

    def check(model: DigitClassifier) -> dict[str, float]:
        d = load_dataset(recipe.dataset, data_dir)
        return {"test_accuracy": accuracy(model, d.x_test, d.y_test)}

    return cached_classifier(recipe, load, cache_dir, check=check)
