"""Contracts over every entry of the registries, in the style of Optax's tests over every
optimiser: each name of the catalogue reaches working code, and a forgotten entry fails.

- Every algorithm on every task its mode allows takes one training step (the production
  ``epoch_step``: shuffle, augmentation, ``train_step``) on a batch of 2, by shape
  evaluation (nothing compiled): the model keeps its shapes and the energies have one entry
  per layer. Real steps, checked for finite energies and weights, run once per (model,
  algorithm family, clamping) where the model is small at the smallest hyperparameters;
  the fixed-width conv models (VGG, ResNet, AlexNet: millions of weights, 10-35 s to build
  and compile one step on a CPU) get shapes here, and each discriminative family takes a
  real step on a miniature conv net with a skip (the class of VGG-19 and AlexNet).
- Every model builds for every data set a task lists it for, with only ``activation`` and
  the hyperparameters its catalogue entry says it reads.
- The paper's best values name a task, an algorithm and a source, and lie in range.

Data sets are loaded from tiny files in tests/data/test_dataset_contracts.py.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pcsearch
from pcsearch.algorithms import BUILDERS as ALGORITHM_BUILDERS
from pcsearch.algorithms import make_algorithm
from pcsearch.catalogue import (
    ACTIVATIONS,
    ALGORITHMS,
    DATASET_SHAPES,
    HYPERPARAMETERS,
    MODELS,
    MODES,
    TASKS,
    TaskInfo,
)
from pcsearch.catalogue.paper_best import PAPER_VALUES, WITHOUT_BEST
from pcsearch.catalogue.registry import by_name, check_registry
from pcsearch.data.datasets import LOADERS
from pcsearch.errors import RegistryError
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import BUILDERS as MODEL_BUILDERS
from pcsearch.models import build_model
from pcsearch.models.activations import ACTIVATIONS as ACTIVATION_FUNCTIONS
from pcsearch.optim import WeightOptimizer
from pcsearch.params import PAPER_BEST, applicable, coerce, missing_paper_values, resolve
from pcsearch.training.device_data import DeviceData
from pcsearch.training.epoch import Trial, epoch_step, init_opt_state
from pcsearch.training.modes import SETUPS, mode_of
from pcsearch.training.run import Plan
from tests.pcsearch.test_conv_models import tiny_skip_vgg

SMALLEST = {"T": 1, "T_sample": 1, "hidden_width": 1, "hidden_layers": 1, "latent_dim": 1,
            "memory_size": 2, "batch_size": 2}  # fmt: skip
"""The smallest values the hyperparameters allow (one hidden layer kept, so every layer kind
appears); a batch of 2."""
BATCH = 2
SMALL_MODEL = 1_000_000
"""Weights a model may have at ``SMALLEST`` for a real step here (the MLPs and autoencoders
have at most tens of thousands; VGG-5, the smallest fixed-width conv model, millions)."""

PAIRS = [(t, a) for t, info in TASKS.items() for a in info.algorithms]


def tiny_plan(task: str, algorithm: str) -> Plan:
    """What ``make_plan`` builds, on BATCH random examples of the data set's shapes."""
    info = TASKS[task]
    info = replace(info, augmentation=info.augmentation.for_dataset(info.dataset))
    mode = mode_of(info)
    names = applicable(algorithm, task)
    params = resolve(task, algorithm, {k: v for k, v in SMALLEST.items() if k in names})
    shape, classes = DATASET_SHAPES[info.dataset]
    kx, ky = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(kx, (BATCH, *shape), jnp.float32)
    labels = jax.random.randint(ky, (BATCH,), 0, classes)
    y = jax.nn.one_hot(labels, classes, dtype=jnp.float32)
    data = DeviceData(x, y, x, labels, classes, synthetic=True)
    if mode.prepare is not None:
        data = mode.prepare(data, info, params)
    algo = make_algorithm(algorithm, params, mode.clamping(algorithm))
    weights = WeightOptimizer(params["weight_optimizer"], 1, params["weight_schedule"])
    return Plan(
        info, algorithm, params, algo, weights, data, mode.evaluation(info, classes, params)
    )


def one_batch(algorithm, weights, augmentation, trial: Trial, x, y) -> tuple[Trial, jax.Array]:
    """One epoch of one batch: exactly one ``train_step``, as training runs it."""
    key, epoch = jax.random.PRNGKey(1), jnp.asarray(0)
    return epoch_step(algorithm, weights, BATCH, augmentation, trial, key, epoch, x, y)


def step(plan: Plan, trial: Trial, run: Callable = one_batch) -> tuple[Trial, jax.Array]:
    data, augmentation = plan.data, plan.task.augmentation
    return run(
        plan.algorithm, plan.weight_optimizer, augmentation, trial, data.x_train, data.y_train
    )


def new_trial(plan: Plan) -> Trial:
    return Trial(*plan.new_model_and_state(0))


def cheap_trial(plan: Plan) -> Trial:
    """``new_trial``'s shapes with weights NumPy draws (normal, 1/sqrt(fan-in); biases 0).

    Drawing the real initial weights compiles a ``jax.random`` program per weight shape,
    most of this module's time; the builders' own draws are covered by the shape tests
    and by every training test."""
    shaped = eqx.filter_eval_shape(new_trial, plan)
    rng = np.random.default_rng(0)

    def draw(leaf: jax.ShapeDtypeStruct) -> jax.Array:
        if leaf.ndim < 2 or not jnp.issubdtype(leaf.dtype, jnp.floating):
            return jnp.zeros(leaf.shape, leaf.dtype)
        scale = 1.0 / math.sqrt(max(1, math.prod(leaf.shape[1:])))
        return jnp.asarray(rng.normal(0.0, scale, leaf.shape), leaf.dtype)

    model = jax.tree.map(draw, shaped.model)
    hp = TracedHyperparameters.from_params(plan.params)
    return Trial(model, init_opt_state(plan.weight_optimizer, model, hp), hp, jax.random.PRNGKey(0))


def layers(plan: Plan, model) -> int:
    """Energies per step: one per predicted state, one more for a free h_0's prior; BP: the
    loss."""
    if ALGORITHMS[plan.algorithm_name].family == "bp":
        return 1
    return model.depth + (plan.algorithm.clamping.bottom == "free")


def _is_array(leaf: Any) -> bool:
    """A weight: a real array, or its shape and dtype under shape evaluation."""
    return isinstance(leaf, jax.Array | jax.ShapeDtypeStruct)


def shapes(tree) -> list[tuple[tuple[int, ...], Any]]:
    return [(a.shape, a.dtype) for a in jax.tree.leaves(tree) if _is_array(a)]


@pytest.mark.parametrize(("task", "algorithm"), PAIRS, ids=[f"{t}:{a}" for t, a in PAIRS])
def test_every_algorithm_steps_on_every_task_by_shape(task: str, algorithm: str):
    plan = tiny_plan(task, algorithm)
    trial = eqx.filter_eval_shape(new_trial, plan)
    after, energies = eqx.filter_eval_shape(step, plan, trial)
    assert shapes(trial.model) and shapes(after.model) == shapes(trial.model)
    assert shapes(after.opt_state) == shapes(trial.opt_state)
    assert energies.shape == (layers(plan, trial.model),) and energies.dtype == jnp.float32


def _weights(task: str) -> int:
    """How many weights the task's model has at SMALLEST (by shape evaluation)."""
    plan = tiny_plan(task, TASKS[task].algorithms[0])
    model = eqx.filter_eval_shape(new_trial, plan).model
    return sum(math.prod(shape) for shape, _ in shapes(model))


def _real_steps() -> list[tuple[str, str]]:
    """One (task, algorithm) per (model, family, clamping), on the task with the smallest
    examples, where the model is small at SMALLEST."""
    first_task = {t.model: name for name, t in reversed(TASKS.items())}
    small = {m for m, task in first_task.items() if _weights(task) < SMALL_MODEL}
    chosen: dict[tuple, tuple[int, str, str]] = {}
    for task, algorithm in PAIRS:
        info = TASKS[task]
        if info.model not in small:
            continue
        clamping = mode_of(info).clamping(algorithm)
        key = (info.model, ALGORITHMS[algorithm].family, clamping.bottom, clamping.top)
        size = math.prod(DATASET_SHAPES[info.dataset][0])
        if key not in chosen or size < chosen[key][0]:
            chosen[key] = (size, task, algorithm)
    return sorted((t, a) for _, t, a in chosen.values())


REAL = _real_steps()


@pytest.mark.parametrize(("task", "algorithm"), REAL, ids=[f"{t}:{a}" for t, a in REAL])
def test_one_real_step_per_small_model_and_family_is_finite(task: str, algorithm: str):
    plan = tiny_plan(task, algorithm)
    trial = cheap_trial(plan)
    after, energies = step(plan, trial, eqx.filter_jit(one_batch))
    assert energies.shape == (layers(plan, trial.model),)
    assert bool(jnp.all(jnp.isfinite(energies))), energies
    leaves = jax.tree.leaves(eqx.filter(after.model, eqx.is_array))
    assert all(bool(jnp.all(jnp.isfinite(a))) for a in leaves)
    moved = [not bool(jnp.array_equal(a, b)) for a, b in zip(
        leaves, jax.tree.leaves(eqx.filter(trial.model, eqx.is_array)), strict=True)]  # fmt: skip
    assert any(moved), "the step left every weight where it was"


DISCRIMINATIVE_FAMILIES = list(
    {ALGORITHMS[a].family: a for a in reversed(MODES["discriminative"].algorithms)}.values()
)


@pytest.mark.parametrize("algorithm", DISCRIMINATIVE_FAMILIES)
def test_one_real_step_per_family_on_a_miniature_conv_net(algorithm: str):
    plan = tiny_plan("vgg19skip-cifar10", algorithm)  # flips only: any image size will do
    model = tiny_skip_vgg(classes=plan.data.num_classes)
    hp = TracedHyperparameters.from_params(plan.params)
    opt_state = init_opt_state(plan.weight_optimizer, model, hp)
    trial = Trial(model, opt_state, hp, jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(2), (BATCH, 3, 8, 8))
    plan = replace(plan, data=replace(plan.data, x_train=x, x_test=x))
    after, energies = step(plan, trial, eqx.filter_jit(one_batch))
    assert energies.shape == (layers(plan, model),) and bool(jnp.all(jnp.isfinite(energies)))
    assert shapes(after.model) == shapes(model)


def test_real_steps_cover_every_family_and_every_small_model():
    families = {ALGORITHMS[a].family for _, a in REAL}
    assert families == {a.family for a in ALGORITHMS.values() if a.implemented}
    assert {TASKS[t].model for t, _ in REAL} >= {"mlp", "ae-linear", "ae-deconv", "mlp-generator"}


# ------------------------------------------------------------------------------- models


def _model_datasets() -> list[tuple[str, str]]:
    """(task, algorithm) per distinct (model, input shape, classes, clamping) of the tasks."""
    seen: dict[tuple, tuple[str, str]] = {}
    for task, algorithm in PAIRS:
        info = TASKS[task]
        clamping = mode_of(info).clamping(algorithm)
        shape = info.augmentation.input_shape(DATASET_SHAPES[info.dataset][0])
        classes = DATASET_SHAPES[info.dataset][1]
        key = (info.model, shape, classes, clamping.bottom, clamping.top, info.mode)
        seen.setdefault(key, (task, algorithm))
    return sorted(set(seen.values()))


MODEL_CASES = _model_datasets()


@pytest.mark.parametrize(
    ("task", "algorithm"), MODEL_CASES, ids=[f"{t}:{a}" for t, a in MODEL_CASES]
)
def test_every_model_builds_for_its_data_from_the_hyperparameters_it_lists(task, algorithm):
    plan = tiny_plan(task, algorithm)
    info = plan.task
    listed = {"activation", *MODELS[info.model].hyperparameters}
    params = {k: v for k, v in plan.params.items() if k in listed}
    shape = info.augmentation.input_shape(plan.data.x_train.shape[1:])
    classes = plan.data.num_classes
    clamping = plan.algorithm.clamping
    model = eqx.filter_eval_shape(
        build_model, info.model, params, shape, classes, jax.random.PRNGKey(0), clamping
    )
    bottom = {"input": shape, "label": (classes,), "free": getattr(model, "latent_shape", None)}
    states = eqx.filter_eval_shape(model.forward_states, jnp.zeros(bottom[clamping.bottom]))
    assert len(states) == model.depth
    if clamping.top == "label":
        assert states[-1].shape == (classes,)
    else:  # the data, flattened or as images
        assert math.prod(states[-1].shape) == math.prod(shape)


def test_model_hyperparameters_follow_the_models_that_read_them():
    for name, h in HYPERPARAMETERS.items():
        readers = tuple(m for m, info in MODELS.items() if name in info.hyperparameters)
        assert h.models == (readers or None), name
    assert HYPERPARAMETERS["hidden_width"].models == ("mlp", "ae-linear", "mlp-generator")


# ---------------------------------------------------------------------- registry checks


REGISTRIES = {
    "algorithm": (ALGORITHM_BUILDERS, [n for n, a in ALGORITHMS.items() if a.implemented]),
    "model": (MODEL_BUILDERS, list(MODELS)),
    "dataset": (LOADERS, list(DATASET_SHAPES)),
    "mode": (SETUPS, list(MODES)),
    "activation": (ACTIVATION_FUNCTIONS, list(ACTIVATIONS)),
}


@pytest.mark.parametrize("kind", list(REGISTRIES))
def test_each_registry_is_its_catalogue_and_a_forgotten_entry_is_named(kind: str):
    registry, catalogue = REGISTRIES[kind]
    assert set(registry) == set(catalogue)
    forgotten, *rest = catalogue
    with pytest.raises(RegistryError, match=rf"'{re.escape(forgotten)}' described in here"):
        check_registry(kind, rest, catalogue, registry_at="there", catalogue_at="here")
    with pytest.raises(RegistryError, match=r"'extra' in there but not described in here"):
        check_registry(kind, [*catalogue, "extra"], catalogue, registry_at="there",
                       catalogue_at="here")  # fmt: skip


@pytest.mark.parametrize("field", ["dataset", "model", "mode"])
def test_a_task_naming_an_unknown_entry_fails_and_says_which_file(field: str):
    task = TASKS["mlp-digits"]
    with pytest.raises(RegistryError) as info:
        replace(task, **{field: "nonesuch"})
    message = str(info.value)
    assert f"{field} 'nonesuch'" in message and f"pcsearch/catalogue/{field}s.py" in message


def test_a_name_listed_twice_is_refused():
    with pytest.raises(RegistryError, match="task 'a' is listed twice"):
        by_name([TaskInfo("a", "mnist", "mlp", "s"), TaskInfo("a", "iris", "mlp", "t")], "task")


# ------------------------------------------------------------------ the paper's values


@pytest.mark.parametrize(("task", "algorithm"), list(PAPER_VALUES))
def test_paper_values_name_their_source_and_lie_in_range(task: str, algorithm: str):
    entry = PAPER_VALUES[(task, algorithm)]
    assert entry.source.strip() and algorithm in TASKS[task].algorithms
    for name, value in entry.values.items():
        assert coerce(HYPERPARAMETERS[name], value) == value
        assert resolve(task, algorithm)[name] == value  # the paper's layer wins over defaults
    assert PAPER_BEST[(task, algorithm)] is entry.values


def test_tasks_without_values_say_why_and_get_the_note():
    for task, why in WITHOUT_BEST.items():
        assert why.strip()
        assert "gives no best hyperparameters" in missing_paper_values(
            task, TASKS[task].algorithms[0]
        )


def test_every_json_of_the_package_ships_with_it():
    root = Path(pcsearch.__file__).parent
    pyproject = tomllib.loads((root.parent / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["pcsearch"]
    data = sorted(p.relative_to(root) for p in root.rglob("*.json"))
    assert Path("catalogue/paper_best.json") in data
    for path in data:
        assert any(path.match(g) for g in globs), f"{path} is missing from package-data"


def test_tiny_imagenet_statistics_are_written_once():
    sources = [p for p in Path(pcsearch.__file__).parent.rglob("*.py")
               if "0.485, 0.456, 0.406" in p.read_text()]  # fmt: skip
    assert [p.name for p in sources] == ["tinyimagenet.py"]
    from pcsearch.data import tinyimagenet
    from pcsearch.training.memory import unit_pixels

    x = jnp.zeros((1, 3, 2, 2))
    np.testing.assert_allclose(unit_pixels("tinyimagenet", x)[0, :, 0, 0], tinyimagenet.MEAN)
