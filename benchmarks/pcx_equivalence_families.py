"""The equivalence families and their NumPy recipes: what both sides of the comparison share.

Imported by ``tests/pcsearch/test_pcx_equivalence.py`` under pcsearch's environment and by
the fixture writer (``benchmarks/pcx_equivalence.py``) under pcx's: NumPy only, nothing
here may import JAX or pcx. ``FAMILIES`` names each network as the paper's code builds it,
``draw_weights``, ``draw_batch`` and ``draw_noise`` draw every number both sides are given
(the orders are documented in ``benchmarks/pcx_equivalence.py``), and ``summarise`` and
``checksum`` reduce arrays to what a fixture stores.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ELEMENTS = 32
"""Individual elements kept per summarised array (at seeded positions)."""
FULL_BELOW = 64
"""Arrays with fewer elements are stored whole."""


@dataclass(frozen=True)
class Layer:
    """One weight layer: ``kind`` is linear, conv or deconv (transposed conv)."""

    kind: str
    shape_in: int
    shape_out: int
    kernel: int = 0
    padding: int = 0
    stride: int = 1
    output_padding: int = 0
    pool: bool = False

    def weight_shape(self) -> tuple[int, ...]:
        if self.kind == "linear":
            return (self.shape_out, self.shape_in)
        return (self.shape_out, self.shape_in, self.kernel, self.kernel)

    def bias_shape(self) -> tuple[int, ...]:
        return (self.shape_out,) if self.kind == "linear" else (self.shape_out, 1, 1)


@dataclass(frozen=True)
class Family:
    """One model family as the paper's code runs it, and the pcsearch task that must match."""

    name: str
    task: str
    algorithm: str
    source: str
    kind: str
    """classifier (input clamped at the bottom, label at the top), decoder (free latent
    h_0, data at the top) or generator (``GeneratorFamily``: MCPC, data at the top)."""
    input_shape: tuple[int, ...]
    """One example: the image (classifier) or the data (decoder)."""
    classes: int
    layers: tuple[Layer, ...]
    activation: str
    energy: str
    """se or ce: the output layer's energy."""
    state_lr: float
    """The code's best state lr for this task (the test checks that pcsearch's default is
    the same rate, in pcsearch's convention)."""
    state_momentum: float
    state_scale: str
    """per-example (the code scales the batch-mean state gradient by the batch size) or
    batch-mean (it does not)."""
    T: int
    batch: int
    run_lr: float | None = None
    """The state lr of the run, in the code's convention (None: ``state_lr``). Classifiers
    start every state at its forward prediction, so after T steps at the code's small rates
    the error has not reached the bottom layers: their energies and gradients are float32
    round-off, which no two programs share. A larger rate over T >= depth steps makes every
    layer's numbers well defined; decoders start at zero, so their own rates do."""
    gain: float = 1.0
    latent_shape: tuple[int, ...] = ()
    """A decoder's free latent; a generator's constant zero input."""
    skip: tuple[int, int] | None = None
    """(index of the conv block whose state the skip reads, its flattened size)."""
    recall_T: int = 0
    """Associative memory: steps of a masked recall after the training step (0: none)."""
    beta: float = 1.0
    """Nudging (PN, NN): the output is clamped to u - beta (u - y), u its forward
    prediction, and the weight gradient is multiplied by 1/beta (the code's ``mul=1/beta``);
    1 is plain PC (the output clamped to y)."""
    weight_lr: float = 0.0
    """iPC (> 0): the weights step at every one of the T inference steps, from the same
    gradient as the states, by SGD at this rate (the code's AdamW swapped for SGD, so that
    the weights' change is the rate times the sum of the T gradients); 0: PC, one weight
    gradient after T steps."""
    weight_seed: int = 0
    data_seed: int = 1
    notes: str = ""


@dataclass(frozen=True)
class GeneratorFamily(Family):
    """An MCPC generator (kind ``generator``): the code's MLP fed a constant zero input of
    ``latent_shape``, states before the activation, the data clamped at the top; Langevin
    state dynamics, whose Gaussian draws both sides take from ``draw_noise``."""

    input_var: float = 1.0
    """sigma^2 of the data layer: its squared error is divided by it."""
    h_var: float = 1.0
    """The code's Langevin temperature (the test checks pcsearch's default against it)."""
    run_h_var: float | None = None
    """The run's temperature (None: ``h_var``); 0 runs the noise-free dynamics."""
    noise_seed: int = 2


def _vgg(channels, paddings, pools, side: int, classes: int) -> tuple[Layer, ...]:
    layers, c_in = [], 3
    for c, p, pooled in zip(channels, paddings, pools, strict=True):
        layers.append(Layer("conv", c_in, c, 3, p, pool=pooled))
        side = (side + 2 * p - 2) // (2 if pooled else 1)
        c_in = c
    return (*layers, Layer("linear", c_in * side * side, classes))


_VGG19_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 256, *(512,) * 8)
_VGG19_POOLS = tuple(i in (1, 3, 7, 11, 15) for i in range(16))


def _vgg19_skip() -> tuple[Layer, ...]:
    convs, c_in = [], 3
    for c, pooled in zip(_VGG19_CHANNELS, _VGG19_POOLS, strict=True):
        convs.append(Layer("conv", c_in, c, 3, 1, pool=pooled))
        c_in = c
    return (
        *convs,
        Layer("linear", 512, 4096),
        Layer("linear", 4096, 10),
        Layer("linear", 128 * 16 * 16, 10),
    )


def _deconv(kernel: int) -> tuple[Layer, ...]:
    """The code's decoder from (8, 4, 4) to (3, 32, 32), stride 2, its padding rule."""
    layers, side = [], 4
    for c_in, c_out in ((8, 8), (8, 5), (5, 3)):
        full = (side - 1) * 2 + kernel
        padding = math.ceil(max(full - 2 * side, 0) / 2)
        extra = max(2 * side - (full - 2 * padding), 0)
        layers.append(Layer("deconv", c_in, c_out, kernel, padding, 2, extra))
        side *= 2
    return tuple(layers)


def _mcpc_mnist(name: str, run_h_var: float | None, note: str) -> GeneratorFamily:
    """The code's MCPC generator on MNIST (``--metric fid``): Linear(30, 256) on its zero
    input (pcsearch's layout keeps only its bias), three 256 x 256, the 784 data layer.
    T = 6: from all-zero states the data's error moves down one layer a step (ReLU's
    gradient is 0 at 0), so it reaches every layer in 5 steps."""
    sizes = ((30, 256), *((256, 256),) * 3, (256, 784))
    return GeneratorFamily(
        name, "mcpc-mnist", "mcpc", _EX + "s4_2_generative_mode/generation_mcpc/mcpc_mnist.py",
        "generator", (784,), 0, tuple(Layer("linear", i, o) for i, o in sizes), "relu", "se",
        0.01844650892795026, 0.9, "per-example", T=6, batch=4, latent_shape=(30,),
        input_var=0.16517081579337262, h_var=1.0, run_h_var=run_h_var,
        notes="--metric fid: lr_h 0.0184, momentum 0.9, h_var 1, input_var 0.165, relu, tanh "
        f"data layer, sgdld (T 1000, batch 900 there); every state starts at zero; {note}",
    )  # fmt: skip


_MLP = tuple(Layer("linear", i, o) for i, o in ((784, 128), *((128, 128),) * 2, (128, 10)))
"""The code's MLP on MNIST: 784-128-128-128-10."""
_EX = "liukidar/pcx v0.6.1 examples/"
_DISC = _EX + "s4_1_discriminative_mode/"
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "mlp-mnist", "mlp-mnist", "pc-se", _DISC + "MLP/mnist/PC_SE.py", "classifier",
            (784,), 10, _MLP, "gelu", "se", 0.0105, 0.65, "per-example", T=6, batch=4, run_lr=0.3,
            notes="hps MLP_PC-SE_MNIST: x lr 0.0105, momentum 0.65, gelu (T 8 there)",
        ),
        Family(
            "mlp-mnist-pn", "mlp-mnist", "pn", _DISC + "MLP/mnist/PC_SE.py", "classifier",
            (784,), 10, _MLP, "gelu", "se", 0.058, 0.70, "per-example", T=6, batch=4,
            run_lr=0.3, beta=0.55,
            notes="hps MLP_PN_MNIST: beta +0.55, x lr 0.058, momentum 0.70, gelu (T 5 there)",
        ),
        Family(
            "mlp-mnist-nn", "mlp-mnist", "nn", _DISC + "MLP/mnist/PC_SE.py", "classifier",
            (784,), 10, _MLP, "gelu", "se", 0.0686, 0.50, "per-example", T=6, batch=4,
            run_lr=0.3, beta=-0.2,
            notes="hps MLP_NN_MNIST: beta -(0.2 + 0.02 epoch), here epoch 0; x lr 0.0686, "
            "momentum 0.50, gelu (T 4 there)",
        ),
        Family(
            "mlp-mnist-ipc", "mlp-mnist", "ipc", _DISC + "MLP/mnist/iPC_SE.py", "classifier",
            (784,), 10, _MLP, "leaky_relu", "se", 0.85, 0.35, "per-example", T=8, batch=4,
            run_lr=0.3, weight_lr=0.01,
            notes="hps MLP_iPC_MNIST: x lr 0.85 (0.3 here: 0.85 on these untrained weights "
            "and N(0, 1) inputs diverges), momentum 0.35, leaky_relu, T 8; the weights step by "
            "SGD 0.01 at each step (AdamW at 2.53e-4 there)",
        ),
        Family(
            "vgg5-cifar10", "vgg5-cifar10", "pc-ce", _DISC + "VGG5/cifar10/PC_CE.py",
            "classifier", (3, 32, 32), 10,
            _vgg((128, 256, 512, 512), (1, 1, 1, 1), (True,) * 4, 32, 10),
            "gelu", "ce", 0.0147, 0.05, "per-example", T=6, batch=2, run_lr=0.3,
            notes="hps VGG5_PC-CE_CIFAR10: x lr 0.0147, momentum 0.05, gelu (T 8 there)",
        ),
        Family(
            "vgg5-tinyimagenet", "vgg5-tinyimagenet", "pc-se",
            _DISC + "VGG5/tinyimagenet/PC_SE.py", "classifier", (3, 56, 56), 200,
            _vgg((128, 256, 512, 512), (1, 1, 1, 1), (True,) * 4, 56, 200),
            "leaky_relu", "se", 0.013, 0.15, "per-example", T=6, batch=2, run_lr=0.3,
            notes="56x56 crops, head 512x3x3; hps VGG5_PC-SE_TinyImageNet: x lr 0.013, "
            "momentum 0.15, leaky_relu (T 8 there)",
        ),
        Family(
            "vgg7-cifar100", "vgg7-cifar100", "pc-se", _DISC + "VGG7/cifar100/PC_SE.py",
            "classifier", (3, 32, 32), 100,
            _vgg(
                (128, 128, 256, 256, 512, 512), (1, 1, 1, 0, 1, 0),
                (True, False, True, False, True, False), 32, 100,
            ),
            "leaky_relu", "se", 0.021, 0.35, "per-example", T=8, batch=2, run_lr=0.3,
            notes="hps VGG7_PC-SE_CIFAR100: x lr 0.021, momentum 0.35, leaky_relu (T 12 there)",
        ),
        Family(
            "vgg19skip-cifar10", "vgg19skip-cifar10", "pc-se",
            _EX + "s5_analysis_and_metrics/energy_and_stability/skip_connections/"
            "vgg19_skip_bestparams.py",
            "classifier", (3, 32, 32), 10, _vgg19_skip(), "leaky_relu", "se", 0.5, 0.5,
            "batch-mean", T=12, batch=2, gain=math.sqrt(2.0), skip=(2, 128 * 16 * 16), run_lr=0.2,
            notes="Table 11's state lr 0.5 and momentum 0.5 on the batch-mean energy; the skip "
            "reads the third conv's state (128x16x16) into the output; gain sqrt(2) keeps 19 "
            "leaky-ReLU layers O(1) (T 24 there)",
        ),
        Family(
            "ae-linear-mnist", "ae-mnist", "pc-se",
            _EX + "s4_2_generative_mode/autoencoders/linear/pc_decoder.py", "decoder",
            (784,), 0,
            tuple(Layer("linear", i, o) for i, o in ((64, 128), (128, 128), (128, 784))),
            "hard_tanh", "se", 0.019849750737164974, 0.15, "per-example", T=5, batch=4,
            latent_shape=(64,),
            notes="configs/pc_mnist_adamw_hypertune.yaml: layer_dims [64, 128, 128, 784], "
            "hard_tanh, linear output, x lr 0.0198, momentum 0.15 (T 20 there); all states "
            "start at zero",
        ),
        Family(
            "ae-deconv-cifar10", "ae-cifar10", "pc-se",
            _EX + "s4_2_generative_mode/autoencoders/deconv/pc_deconv.py", "decoder",
            (3, 32, 32), 0, _deconv(4), "hard_tanh", "se", 0.016660532913375187, 0.05,
            "per-example", T=5, batch=4, latent_shape=(8, 4, 4),
            notes="configs/pc_cifar10_adamw_hypertune.yaml: kernel 4, channels [8, 5, 3], "
            "hard_tanh, linear output, x lr 0.0167, momentum 0.05 (T 20 there); all states "
            "start at zero",
        ),
        Family(
            "am-tinyimagenet", "am-tinyimagenet", "pc-se",
            _EX + "s4_2_generative_mode/associative_memory/associative_memory.py", "decoder",
            (12288,), 0,
            tuple(Layer("linear", i, o) for i, o in ((512, 512), (512, 512), (512, 12288))),
            "tanh", "se", 0.5, 0.0, "batch-mean", T=4, batch=50, latent_shape=(512,),
            recall_T=4,
            notes="hps.json mask/512/50: h_lr 0.5 on the batch-mean energy of the code's "
            "fixed batch of 50, SGD without momentum (T_train 50, T_gen 50000 there); the "
            "recall clamps the top half of every channel and frees the bottom half",
        ),
        _mcpc_mnist("mcpc-mnist", None, "Langevin noise from draw_noise on both sides"),
        _mcpc_mnist("mcpc-mnist-noise-free", 0.0, "h_var 0: the same steps without noise"),
    )
}  # fmt: skip


# NumPy-only recipes, shared with the test ------------------------------------------------


def draw_weights(family: Family) -> list[np.ndarray]:
    """Every weight tensor in the documented order: weight then bias of each layer."""
    rng = np.random.default_rng(family.weight_seed)
    out = []
    for layer in family.layers:
        shape = layer.weight_shape()
        fan_in = int(np.prod(shape[1:]))
        w = family.gain / math.sqrt(fan_in) * rng.standard_normal(shape)
        out.append(w.astype(np.float32))
        out.append((0.1 * rng.standard_normal(layer.bias_shape())).astype(np.float32))
    return out


def draw_batch(family: Family) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, one-hot labels): images ~ N(0, 1) (normalised) for classifiers, pixels ~
    U[0, 1] for decoders (their data is x/255), U[-1, 1] for generators (MNIST scaled to
    [-1, 1]); decoders' and generators' labels are zeros, unused."""
    rng = np.random.default_rng(family.data_seed)
    shape = (family.batch, *family.input_shape)
    if family.kind == "classifier":
        x = rng.standard_normal(shape)
        classes = rng.integers(0, family.classes, family.batch)
        y = np.eye(family.classes)[classes]
    else:
        low = -1.0 if family.kind == "generator" else 0.0
        x = rng.uniform(low, 1.0, shape)
        y = np.zeros((family.batch, 1))
    return x.astype(np.float32), y.astype(np.float32)


def noise_shapes(family: Family) -> list[tuple[int, ...]]:
    """One example's free states in a generator: the output of every layer but the last."""
    return [(layer.shape_out,) for layer in family.layers[:-1]]


def draw_noise(family: Family) -> list[np.ndarray]:
    """The Langevin draws, N(0, 1), one [T, batch, *state] array per free state bottom to
    top: at step t, for each state in turn, ``standard_normal((batch, *state))`` from
    ``default_rng(noise_seed)``. Step t adds sqrt(variance) times the t-th slices to the
    state gradients (the code's ``optax.add_noise``; pcsearch's ``add_gaussian_noise``)."""
    if not isinstance(family, GeneratorFamily):
        return []
    rng = np.random.default_rng(family.noise_seed)
    shapes = noise_shapes(family)
    steps = [[rng.standard_normal((family.batch, *s)) for s in shapes] for _ in range(family.T)]
    return [np.stack([step[i] for step in steps]).astype(np.float32) for i in range(len(shapes))]


def projection(name: str, size: int) -> np.ndarray:
    """The seeded random direction an array called ``name`` is projected on."""
    return np.random.default_rng(zlib.crc32(name.encode())).standard_normal(size)


def summarise(name: str, array: np.ndarray) -> dict[str, Any]:
    """Sum, sum of |.|, sum of squares, a projection (and its |.| sum, for a tolerance) and
    ``ELEMENTS`` elements at positions seeded by the name; small arrays whole."""
    a = np.asarray(array, np.float64).reshape(-1)
    v = projection(name, a.size)
    out: dict[str, Any] = {
        "shape": list(np.shape(array)),
        "sum": float(a.sum()),
        "abs_sum": float(np.abs(a).sum()),
        "sum_sq": float((a * a).sum()),
        "projection": float(v @ a),
        "projection_abs": float(np.abs(v * a).sum()),
    }
    if a.size < FULL_BELOW:
        out["positions"] = list(range(a.size))
    else:
        picks = np.random.default_rng(zlib.crc32(name.encode()) + 1)
        out["positions"] = sorted(int(i) for i in picks.choice(a.size, ELEMENTS, replace=False))
    out["values"] = [float(a[i]) for i in out["positions"]]
    return out


def checksum(arrays: Sequence[np.ndarray]) -> dict[str, float]:
    """What the test checks before anything else: that it drew the same numbers."""
    flat = np.concatenate([np.asarray(a, np.float64).reshape(-1) for a in arrays])
    return {"count": int(flat.size), "sum": float(flat.sum()), "sum_sq": float(flat @ flat)}


def bottom_half_free(shape: tuple[int, int, int]) -> np.ndarray:
    """The associative-memory mask: 1 on rows >= H/2 of every channel (free), flattened."""
    c, h, w = shape
    rows = (np.arange(h) >= h // 2).astype(np.float32)
    return np.broadcast_to(rows[None, :, None], (c, h, w)).reshape(-1).copy()


MEMORY_IMAGE = (3, 64, 64)
