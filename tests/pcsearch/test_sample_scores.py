"""FID and inception score of samples, from pcsearch's own (cached) classifier.

Everything here runs on synthetic data and tiny classifiers; the real one (MNIST, 784-256-
128-10) is trained by the same code the first time a real MCPC MNIST run is scored.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.catalogue import TASKS
from pcsearch.errors import InvalidValueError
from pcsearch.params import resolve
from pcsearch.training import mnist_classifier as mc
from pcsearch.training.mnist_classifier import ClassifierRecipe, cached_classifier, classifier_dir
from pcsearch.training.sample_scores import frechet_distance, inception_score
from pcsearch.training.sampling import Sampling, sampling_evaluation, with_digit_scores

TINY = ClassifierRecipe(dataset="blobs", inputs=6, classes=3, hidden=(8, 5), epochs=5,
                        batch_size=30, learning_rate=0.03, seed=1)  # fmt: skip


def _blobs(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 6-d, one per class."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = 3.0 * np.eye(3, 6)
    return (centres[y] + rng.normal(size=(n, 6))).astype(np.float32), y


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_noise() -> None:
    features = jax.random.normal(jax.random.PRNGKey(0), (2000, 8)) @ jnp.diag(jnp.arange(1, 9.0))
    fid = jax.jit(frechet_distance)
    assert float(fid(features, features)) == pytest.approx(0.0, abs=1e-2)
    noise = jax.random.normal(jax.random.PRNGKey(1), features.shape)
    scores = [float(fid(features + s * noise, features)) for s in (0.3, 1.0, 3.0)]
    assert 0.0 < scores[0] < scores[1] < scores[2]
    # two Gaussians apart by their means only: the squared distance of the means
    shifted = float(fid(features + 2.0, features))
    assert shifted == pytest.approx(8 * 4.0, rel=1e-3)


def test_inception_score_is_the_class_count_for_confident_diverse_predictions() -> None:
    classes = 10
    confident = jax.nn.one_hot(jnp.arange(1000) % classes, classes)
    mean, std = inception_score(confident, splits=10)
    assert float(mean) == pytest.approx(classes, rel=1e-4) and float(std) < 1e-3
    uniform = jnp.full((1000, classes), 1.0 / classes)
    assert float(inception_score(uniform)[0]) == pytest.approx(1.0, abs=1e-5)
    one_class = jax.nn.one_hot(jnp.zeros(1000, jnp.int32), classes)  # confident, not diverse
    assert float(inception_score(one_class)[0]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="at least 10 samples"):
        inception_score(confident[:5])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[object, mc.DigitClassifier, list[int]]:
    """The tiny recipe trained once into a fresh cache: (cache folder, classifier, loads)."""
    folder, loads = tmp_path_factory.mktemp("cache"), []

    def load():
        loads.append(1)
        return _blobs()

    return folder, cached_classifier(TINY, load, folder), loads


def test_the_classifier_is_cached_by_its_recipe_and_not_trained_twice(tiny, monkeypatch):
    folder, first, loads = tiny
    files = sorted(p.name for p in classifier_dir(folder).iterdir())
    assert files == [f"blobs-{TINY.digest()}.eqx", f"blobs-{TINY.digest()}.json"]
    monkeypatch.setattr(mc, "train_classifier", lambda *a: pytest.fail("trained again"))
    second = cached_classifier(TINY, lambda: pytest.fail("loaded the data again"), folder)
    assert loads == [1]
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # another recipe is another file (and would train)
    assert ClassifierRecipe(**{**TINY.__dict__, "epochs": 3}).digest() != TINY.digest()


def test_scores_through_a_tiny_classifier(tiny) -> None:
    """The sampling evaluation's FID and IS: ~0 and near the class count for the test set
    scored against itself; FID grows and IS falls as the samples are noised."""
    x, _ = _blobs()
    net = tiny[1]
    assert mc.accuracy(net, *_blobs(seed=1)) > 0.9
    scoring = Sampling(3, classifier=net)
    test = jnp.asarray(x)
    scores = eqx.filter_jit(lambda s, a, b: s.digit_scores(a, b))
    clean = scores(scoring, test, test)
    assert float(clean["fid_ours"]) == pytest.approx(0.0, abs=1e-2)
    assert 2.0 < float(clean["inception_score_ours"]) <= 3.0
    noise = jax.random.normal(jax.random.PRNGKey(0), test.shape)
    noisy = [scores(scoring, test + s * noise, test) for s in (1.0, 3.0)]
    assert 0.0 < float(noisy[0]["fid_ours"]) < float(noisy[1]["fid_ours"])
    assert float(noisy[1]["inception_score_ours"]) < float(clean["inception_score_ours"])
    assert Sampling(3).digit_scores(test, test) == {}


def test_only_real_digit_runs_get_the_classifier_and_each_task_reads_its_scripts_way() -> None:
    """MNIST samples: the noise-free prediction, clipped to the pixels' [-1, 1]; iris: the
    data layer's state, unclipped, and never a digit classifier. (Synthetic runs never ask:
    make_plan adds the classifier for real data only, see test_sampling_tasks.)"""
    mnist = sampling_evaluation(TASKS["mcpc-mnist"], 10, resolve("mcpc-mnist", "mcpc"))
    assert mnist.noise_free and mnist.clip == (-1.0, 1.0) and mnist.classifier is None
    iris = sampling_evaluation(TASKS["mcpc-iris"], 3, resolve("mcpc-iris", "mcpc"))
    assert not iris.noise_free and iris.clip is None
    assert with_digit_scores(iris, TASKS["mcpc-iris"], None) is iris
    with pytest.raises(InvalidValueError, match="sample_from"):
        sampling_evaluation(TASKS["mcpc-iris"], 3, {"sample_from": "mode"})
