"""Convolutional models under the shared model contract: shapes, inference lowers the
energy on CIFAR-shaped data, PC at T=0 and at weak output precision against BP (a plain
VGG, one with a long skip into the output, a ResNet), and a short run of a VGG-5 task on
synthetic data."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pcsearch.algorithms import Backprop, PredictiveCoding
from pcsearch.catalogue import DATASET_SHAPES, TASKS
from pcsearch.energy import squared_error
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.models import VGG, ConvNet, PCModel, ResNet, build_model
from pcsearch.models.vgg import VGG5_TABLE5
from pcsearch.training import train

infer = eqx.filter_jit(PredictiveCoding.infer)


@eqx.filter_jit
def init_states(pc: PredictiveCoding, model, x):
    return pc.init_states(model, x, jax.random.PRNGKey(0))[0]


@eqx.filter_jit
def total_energy(pc: PredictiveCoding, model, x, states, y):
    return jnp.sum(pc.energies(model, x, states, y))


@eqx.filter_jit
def grads(pc: PredictiveCoding, model, x, states, y):
    energy = lambda m: jnp.sum(jnp.mean(pc.energies(m, x, states, y), axis=0))
    return eqx.filter_grad(energy)(model)


@eqx.filter_jit
def bp_grads(model, x, y):
    return eqx.filter_grad(Backprop(output_loss=squared_error).loss)(model, x, y)


def state_shapes(name: str, input_shape: tuple[int, ...], classes: int) -> list[tuple]:
    """Every state's shape in a forward pass of a task's model, by shape evaluation only
    (no weights made, nothing compiled)."""

    def forward():
        model = build_model(name, {"activation": "gelu"}, input_shape, classes,
                            jax.random.PRNGKey(0))  # fmt: skip
        return model.forward_states(jnp.zeros(input_shape))

    return [s.shape for s in eqx.filter_eval_shape(forward)]


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The paper's C x H x W as pcsearch holds a conv state (H x W x C); others unchanged."""
    return (*shape[1:], shape[0]) if len(shape) == 3 else shape


def tiny_vgg(seed: int = 0, classes: int = 5) -> VGG:
    """Two conv blocks on 3x8x8 images: small enough to reach equilibrium on a CPU."""
    return VGG((3, 8, 8), classes, (4, 6), (1, 1), jnp.tanh, key=jax.random.PRNGKey(seed))


def tiny_skip_vgg(seed: int = 0, classes: int = 5) -> ConvNet:
    """Two conv blocks, a hidden linear layer, and a skip from the first block into the
    output (Appendix E's VGG-19 in miniature)."""
    return ConvNet((3, 8, 8), classes, (4, 6), jnp.tanh, pools=(True, False), hidden=(7,),
                   skip_from=1, key=jax.random.PRNGKey(seed))  # fmt: skip


def tiny_resnet(seed: int = 0, classes: int = 5) -> ResNet:
    """A stem and two basic blocks: one with an identity shortcut, one strided with a 1x1
    conv on its shortcut."""
    return ResNet((3, 8, 8), classes, jnp.tanh, widths=(4, 6), blocks=(1, 1),
                  key=jax.random.PRNGKey(seed))  # fmt: skip


TINY_NETS = pytest.mark.parametrize(
    "tiny", [tiny_vgg, tiny_skip_vgg, tiny_resnet], ids=["vgg", "skip", "resnet"]
)


def batch(seed: int = 1, n: int = 6, classes: int = 5):
    kx, ky = jax.random.split(jax.random.PRNGKey(seed))
    x = jax.random.normal(kx, (n, 3, 8, 8))
    return x, jax.nn.one_hot(jax.random.randint(ky, (n,), 0, classes), classes)


def hp(state_lr: float, momentum: float = 0.0) -> TracedHyperparameters:
    return TracedHyperparameters.from_params({"state_lr": state_lr, "state_momentum": momentum})


def test_vgg5_follows_the_papers_code_and_the_contract():
    """Every conv padded by 1, as every VGG-5 script of the paper's code (liukidar/pcx v0.6.1,
    examples/s4_1_discriminative_mode/VGG5/*/*.py: Vodes (128,16,16) .. (512,2,2)); Table 5
    prints 0 for the fourth."""
    model = eqx.filter_eval_shape(
        build_model, "vgg5", {"activation": "gelu"}, (3, 32, 32), 100, jax.random.PRNGKey(0)
    )
    assert isinstance(model, PCModel) and model.depth == 5
    code = [(128, 16, 16), (256, 8, 8), (512, 4, 4), (512, 2, 2), (100,)]
    assert state_shapes("vgg5", (3, 32, 32), 100) == [channels_last(s) for s in code]
    assert all(c.padding == ((1, 1), (1, 1)) for c in model.convs)


@pytest.mark.parametrize(
    ("task", "inputs", "table5"),
    [("vgg5-cifar10", 512 * 2 * 2, 512), ("vgg5-cifar100", 512 * 2 * 2, 512),
     ("vgg5-tinyimagenet", 512 * 3 * 3, 512 * 2 * 2)],
)  # fmt: skip
def test_vgg5_head_reads_what_the_codes_head_reads(task: str, inputs: int, table5: int):
    """The code's heads: pxnn.Linear(512 * 2 * 2, ...) in VGG5/cifar10 and cifar100,
    pxnn.Linear(512 * 3 * 3, ...) in VGG5/tinyimagenet (its 56x56 crops). Table 5's unpadded
    fourth conv (``VGG5_TABLE5``, kept for comparison) would read fewer."""
    info = TASKS[task]
    shape, classes = DATASET_SHAPES[info.dataset]
    shape = info.augmentation.input_shape(shape)
    key = jax.random.PRNGKey(0)
    model = eqx.filter_eval_shape(build_model, "vgg5", {"activation": "gelu"}, shape, classes, key)
    assert model.head.in_features == inputs
    text = eqx.filter_eval_shape(
        lambda: VGG(shape, classes, **VGG5_TABLE5, activation=jax.nn.gelu, key=key)
    )
    assert text.head.in_features == table5


def test_vgg7_pools_where_the_papers_code_does():
    shapes = state_shapes("vgg7", (3, 32, 32), 10)
    code = [(128, 16, 16), (128, 16, 16), (256, 8, 8), (256, 6, 6), (512, 3, 3), (512, 1, 1),
            (10,)]  # fmt: skip
    assert shapes == [channels_last(s) for s in code]


def test_inference_lowers_the_energy_on_cifar_shaped_data():
    model = VGG((3, 32, 32), 10, (8, 8, 16), (1, 1, 1), jax.nn.gelu, key=jax.random.PRNGKey(3))
    x = jax.random.normal(jax.random.PRNGKey(4), (4, 3, 32, 32))
    y = jax.nn.one_hot(jnp.arange(4), 10)
    pc = PredictiveCoding(output_loss=squared_error, T=1)
    states = init_states(pc, model, x)
    totals = []
    for _ in range(20):
        totals.append(float(total_energy(pc, model, x, states, y)))
        states = infer(pc, model, x, states, y, hp(0.05), steps=1)
    assert totals[-1] < 0.9 * totals[0]
    assert np.all(np.diff(totals) <= 1e-6 * totals[0])


@TINY_NETS
def test_t0_output_layer_gradient_equals_backprop_for_a_conv_net(tiny):
    model, (x, y) = tiny(), batch()
    pc = PredictiveCoding(output_loss=squared_error, T=0)
    pc_g = grads(pc, model, x, init_states(pc, model, x), y)
    bp_g = bp_grads(model, x, y)
    np.testing.assert_allclose(pc_g.head.weight, bp_g.head.weight, rtol=1e-5, atol=1e-7)
    if getattr(model, "skip", None) is not None:  # the skip feeds the output layer too
        np.testing.assert_allclose(pc_g.skip.weight, bp_g.skip.weight, rtol=1e-5, atol=1e-7)


@TINY_NETS
def test_inference_lowers_the_energy_of_a_tiny_conv_net(tiny):
    """Step by step, skips and shortcuts included (small weights keep the drop small)."""
    model, (x, y) = tiny(seed=3), batch(seed=4)
    pc = PredictiveCoding(output_loss=squared_error, T=1)
    states = init_states(pc, model, x)
    totals = []
    for _ in range(15):
        totals.append(float(total_energy(pc, model, x, states, y)))
        states = infer(pc, model, x, states, y, hp(0.2), steps=1)
    assert totals[-1] < 0.99 * totals[0], totals
    assert np.all(np.diff(totals) <= 1e-6 * totals[0]), totals


@TINY_NETS
def test_a_conv_net_at_equilibrium_with_weak_output_precision_matches_backprop(tiny):
    """The equilibrium's weight gradients (scaled by the precision) point where backprop's
    do, through skips and shortcuts too."""
    precision = 1e-2
    model, (x, y) = tiny(seed=2), batch(seed=5)
    pc = PredictiveCoding(output_loss=squared_error, T=300, output_precision=precision)
    states = infer(pc, model, x, init_states(pc, model, x), y, hp(0.2, momentum=0.5))
    pc_g = grads(pc, model, x, states, y)
    bp_g = bp_grads(model, x, y)
    for p, b in zip(jax.tree.leaves(pc_g), jax.tree.leaves(bp_g), strict=True):
        pg = np.asarray(p).ravel() / precision
        bg = np.asarray(b).ravel()
        cosine = pg @ bg / (np.linalg.norm(pg) * np.linalg.norm(bg))
        assert cosine > 0.99, cosine


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["pc-ce", "bp-ce"])
def test_one_vgg5_epoch_on_synthetic_data_runs_and_says_so(algorithm: str):
    # The runs of tests/cli/test_conv_cli.py and of test_epoch_loop.py's VGG (batch 4, SGD
    # weights): each compiled program is then built once for all of them (a shared cache).
    extra = {"T": 2} if algorithm.startswith("pc") else {}
    result = train(
        "vgg5-cifar100", algorithm,
        {"epochs": 1, "batch_size": 4, "weight_optimizer": "sgd", **extra},
        synthetic=True, max_batches=2,
    )  # fmt: skip
    assert result.status == "completed" and result.synthetic
    assert 0.0 <= result.value <= 1.0
    assert "top5_accuracy" in result.history[0].extra
    assert len(result.history[0].energy_per_layer) == (5 if algorithm == "pc-ce" else 1)
