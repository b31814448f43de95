"""The paper's other convolutional models and tasks: every state's shape at the real input
sizes (by shape evaluation: no weights made, nothing compiled), predictions that read two
states (Appendix E's skip, ResNet shortcuts), the tasks' crops and Table 11 defaults, and
a Tiny ImageNet task trained on synthetic data. The PC-versus-BP theory tests of the skip
network and the ResNet are in test_conv_models.py, beside the plain VGG's."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from pcsearch.catalogue import DATASET_SHAPES, TASKS, Augmentation
from pcsearch.models import ConvNet, build_model
from pcsearch.params import resolve
from pcsearch.training import device_data, train
from pcsearch.training.run import make_plan
from search_spaces import get_space
from tests.pcsearch.test_conv_models import (
    channels_last,
    state_shapes,
    tiny_resnet,
    tiny_skip_vgg,
)

VGG19_32 = [(64, 32, 32), (64, 16, 16), (128, 16, 16), (128, 8, 8), (256, 8, 8), (256, 8, 8),
            (256, 8, 8), (256, 4, 4), (512, 4, 4), (512, 4, 4), (512, 4, 4), (512, 2, 2),
            (512, 2, 2), (512, 2, 2), (512, 2, 2), (512, 1, 1), (4096,), (10,)]  # fmt: skip


def _resnet18(size: int, classes: int) -> list[tuple]:
    """The stem, then four states (two blocks of two convs) per stage of 64-512 channels."""
    stages = [(c, size // 2**i, size // 2**i) for i, c in enumerate((64, 128, 256, 512))]
    return [stages[0]] + [s for s in stages for _ in range(4)] + [(classes,)]


SHAPES = {
    ("vgg9", 32): [(128, 16, 16), (128, 16, 16), (256, 8, 8), (256, 8, 8), (512, 4, 4),
                   (512, 4, 4), (512, 2, 2), (512, 2, 2), (10,)],
    ("vgg9", 56): [(128, 28, 28), (128, 28, 28), (256, 14, 14), (256, 14, 14), (512, 7, 7),
                   (512, 7, 7), (512, 3, 3), (512, 3, 3), (200,)],
    # VGG-5: liukidar/pcx v0.6.1, examples/s4_1_discriminative_mode/VGG5/tinyimagenet/PC_SE.py
    # (every conv padded by 1; Vodes end at (512, 3, 3), a head of 512 * 3 * 3)
    ("vgg5", 56): [(128, 28, 28), (256, 14, 14), (512, 7, 7), (512, 3, 3), (200,)],
    ("vgg7", 56): [(128, 28, 28), (128, 28, 28), (256, 14, 14), (256, 12, 12), (512, 6, 6),
                   (512, 4, 4), (200,)],
    ("vgg19", 32): VGG19_32,
    ("vgg19skip", 32): VGG19_32,
    ("resnet18", 32): _resnet18(32, 10),
    ("resnet18", 56): _resnet18(56, 200),
    ("alexnet", 32): [(64, 8, 8), (192, 4, 4), (384, 4, 4), (256, 4, 4), (256, 2, 2), (4096,),
                      (4096,), (10,)],
}  # fmt: skip


@pytest.mark.parametrize(("name", "size"), list(SHAPES), ids=lambda v: str(v))
def test_every_state_at_the_real_input_size(name: str, size: int):
    """The paper's shapes (C x H x W), which pcsearch's conv states hold channels-last."""
    expected = SHAPES[(name, size)]
    got = state_shapes(name, (3, size, size), expected[-1][0])
    assert got == [channels_last(s) for s in expected]


def test_resnet18_has_a_state_per_weight_layer_and_its_usual_stages():
    shapes = SHAPES[("resnet18", 32)]
    assert len(shapes) == 18  # stem, 16 block convs, output
    assert shapes[:2] == [(64, 32, 32), (64, 32, 32)] and shapes[-2] == (512, 4, 4)


def test_vgg19_skip_reads_the_third_conv_as_the_papers_code():
    shape = lambda name: eqx.filter_eval_shape(  # noqa: E731
        build_model, name, {"activation": "gelu"}, (3, 32, 32), 10, jax.random.PRNGKey(0)
    )
    skip, plain = shape("vgg19skip"), shape("vgg19")
    assert skip.skip_from == 3 and skip.skip.in_features == 128 * 16 * 16 == 512 * 8 * 8
    assert plain.skip is None and skip.depth == plain.depth == 18


@eqx.filter_jit
def _changes(model, pairs: tuple[tuple[int, int], ...]) -> list[jax.Array]:
    """For each (index, source): how much predict(index) moves when state ``source`` (only)
    is bumped by 1, from a forward pass's states. One compiled program per model."""
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 8))
    states = [x, *model.forward_states(x)]
    out = []
    for index, source in pairs:
        bumped = list(states)
        bumped[source] = states[source] + 1.0
        out.append(jnp.max(jnp.abs(model.predict(index, bumped) - model.predict(index, states))))
    return out


def test_the_skip_networks_output_reads_an_early_state_too():
    model = tiny_skip_vgg()
    plain = ConvNet((3, 8, 8), 5, (4, 6), jnp.tanh, pools=(True, False), hidden=(7,),
                    key=jax.random.PRNGKey(0))  # fmt: skip
    top = model.depth - 1
    skip_moves, below_moves = _changes(model, ((top, model.skip_from), (top, top)))
    assert skip_moves > 1e-3 and below_moves > 1e-3
    (plain_moves,) = _changes(plain, ((top, model.skip_from),))
    assert plain_moves == 0.0  # without the skip the head reads only the state below


def test_a_resnet_blocks_output_reads_the_block_input_through_the_shortcut():
    # states: 0 input, 1 stem, 2-3 block 1 (identity), 4-5 block 2 (strided, 1x1 conv);
    # a block's first conv reads only the state right below it
    identity, projected, first_conv = _changes(tiny_resnet(), ((2, 1), (4, 3), (3, 2)))
    assert identity > 1e-3 and projected > 1e-3
    assert first_conv == 0.0


def test_conv_net_refuses_a_skip_that_is_not_below_the_head():
    with pytest.raises(ValueError, match="skip_from=3"):
        ConvNet((3, 8, 8), 5, (4, 6), jnp.tanh, pools=(True, False), hidden=(7,), skip_from=3,
                key=jax.random.PRNGKey(0))  # fmt: skip


def test_tiny_imagenet_tasks_crop_and_cifar_tasks_pad():
    assert DATASET_SHAPES["tinyimagenet"] == ((3, 64, 64), 200)
    tiny = [t for t in TASKS.values() if t.dataset == "tinyimagenet" and t.mode != "memory"]
    assert {t.name for t in tiny} == {"vgg5-tinyimagenet", "vgg7-tinyimagenet",
                                      "vgg9-tinyimagenet", "resnet18-tinyimagenet"}  # fmt: skip
    for t in tiny:
        assert t.augmentation == Augmentation(crop=56, flip=True)
        assert t.augmentation.input_shape((3, 64, 64)) == (3, 56, 56)
    assert TASKS["resnet18-cifar100"].augmentation == Augmentation(padding=4, flip=True)
    assert TASKS["vgg5-cifar10"].augmentation.input_shape((3, 32, 32)) == (3, 32, 32)
    with pytest.raises(ValueError):
        Augmentation(padding=4, crop=56)


@pytest.mark.parametrize(
    ("task", "space"), [("vgg19-cifar10", "vgg19-plain"), ("vgg19skip-cifar10", "vgg19-skip")]
)
def test_vgg19_tasks_default_to_table_11s_best_values_inside_its_grid(task: str, space: str):
    grid = get_space(space)
    grid.check_for(task, "pc-se")
    params = resolve(task, "pc-se")
    for name, values in grid.grid("pc-se").items():
        assert params[name] in values, name
    for name, value in grid.fixed("pc-se").items():
        assert params[name] == value, name


@pytest.fixture
def small_synthetic(monkeypatch: pytest.MonkeyPatch):
    """Synthetic sets of 16 and 8 examples: generating 4096 Tiny ImageNet images is slow."""
    monkeypatch.setattr(device_data, "SYNTHETIC_TRAIN", 16)
    monkeypatch.setattr(device_data, "SYNTHETIC_TEST", 8)
    device_data._synthetic.cache_clear()
    yield
    device_data._synthetic.cache_clear()


def test_a_tiny_imagenet_plan_centre_crops_the_test_set_and_builds_for_56(small_synthetic):
    plan = make_plan("vgg5-tinyimagenet", "bp-ce", {"batch_size": 4}, None, synthetic=True)
    assert plan.data.x_train.shape == (16, 3, 64, 64)  # whole: cropped at random per batch
    assert plan.data.x_test.shape == (8, 3, 56, 56)
    model = eqx.filter_eval_shape(lambda: plan.new_model_and_state(0)[0])
    # the code's head (VGG5/tinyimagenet/PC_SE.py: Linear(512 * 3 * 3, ...)); 64x64 inputs
    # would end at 512x4x4
    assert model.head.in_features == 512 * 3 * 3


@pytest.mark.slow
def test_one_tiny_imagenet_epoch_on_synthetic_data(small_synthetic):
    result = train(
        "vgg5-tinyimagenet", "pc-ce", {"epochs": 1, "batch_size": 4, "T": 1},
        synthetic=True, max_batches=1,
    )  # fmt: skip
    assert result.status == "completed" and result.synthetic
    assert "top5_accuracy" in result.history[0].extra
    assert len(result.history[0].energy_per_layer) == 5
