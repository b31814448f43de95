"""Reference values for the step-level equivalence tests: the paper's library run as its code runs.

README
------
Regenerate the fixtures (needs a virtual environment with pcx 0.6.3, the paper's library,
e.g. ``.venv-pcx``; it cannot share one with pcsearch's JAX)::

    .venv-pcx/bin/python benchmarks/pcx_equivalence.py --out tests/fixtures/pcx_equivalence
    .venv-pcx/bin/python benchmarks/pcx_equivalence.py --out ... --family vgg5-cifar10

and commit the JSON files. ``tests/pcsearch/test_pcx_equivalence.py`` reads them, puts the
same weights and batch into pcsearch's model of the task and compares, so CI needs no pcx.

What a fixture holds
--------------------
For each family (``FAMILIES``) the network is built in pcx as the paper's code builds it
(liukidar/pcx, tag v0.6.1, ``examples/``: the script named in ``Family.source``), with its
energies (SE or CE at the output, a zero-energy free latent in the decoders), its state
initialisation (forward, or every state at zero in the decoders) and its state gradient
scale (``optim_h.step(..., scale_by_batch_size=True)`` turns the batch-mean energy's state
gradient back into each example's own; the VGG-19 and associative-memory scripts step on
the batch mean itself). Then:

1. every weight is drawn by ``draw_weights`` and every input by ``draw_batch`` (NumPy only,
   so the test draws the very same arrays; checksums in the file catch a drift),
2. the code's training step runs: forward initialisation, ``T`` inference steps with the
   code's state optimiser (SGD with momentum), then the weight gradient of the batch-mean
   energy (not applied),
3. the file gets the per-example energy of every layer after inference, compact summaries
   (``summarise``) of every free state and every weight gradient and, for the associative
   memory, of a masked recall; plus the seeds, shapes, hyperparameters and versions.

All of it twice: in float64 (the reference, the code's arithmetic without round-off) and in
float32 (under ``"float32"``, statistics only), whose distance from the float64 run is pcx's
own float32 error on every number; the test allows pcsearch's float32 result a small
multiple of it where 1e-4 is beyond float32 (see the test's docstring).

Weight order (``Family.layers``): the layers bottom to top (VGG-19: its 16 convs, the
hidden linear layer, the output layer, then the skip's linear layer), each as weight then
bias in Equinox's layout ([out, in] for linear, [out, in, kh, kw] for (transposed) convs,
[out, 1, 1] for conv biases). Each weight is ``gain / sqrt(fan_in) * N(0, 1)`` with fan_in
the product of its shape after the first axis, each bias ``0.1 * N(0, 1)``, all drawn in
that order from ``numpy.random.default_rng(weight_seed)``. Inputs come from
``default_rng(data_seed)``: the input (or the data, in generative families) first, then the
labels.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
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
    """classifier (input clamped at the bottom, label at the top) or decoder (free latent
    h_0, data at the top)."""
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
    skip: tuple[int, int] | None = None
    """(index of the conv block whose state the skip reads, its flattened size)."""
    recall_T: int = 0
    """Associative memory: steps of a masked recall after the training step (0: none)."""
    weight_seed: int = 0
    data_seed: int = 1
    notes: str = ""


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


_EX = "liukidar/pcx v0.6.1 examples/"
_DISC = _EX + "s4_1_discriminative_mode/"
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "mlp-mnist", "mlp-mnist", "pc-se", _DISC + "MLP/mnist/PC_SE.py", "classifier",
            (784,), 10,
            tuple(Layer("linear", i, o) for i, o in ((784, 128), *((128, 128),) * 2, (128, 10))),
            "gelu", "se", 0.0105, 0.65, "per-example", T=6, batch=4, run_lr=0.3,
            notes="hps MLP_PC-SE_MNIST: x lr 0.0105, momentum 0.65, gelu (T 8 there)",
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
    U[0, 1] for decoders (their data is x/255); decoders' labels are zeros, unused."""
    rng = np.random.default_rng(family.data_seed)
    shape = (family.batch, *family.input_shape)
    if family.kind == "classifier":
        x = rng.standard_normal(shape)
        classes = rng.integers(0, family.classes, family.batch)
        y = np.eye(family.classes)[classes]
    else:
        x = rng.uniform(0.0, 1.0, shape)
        y = np.zeros((family.batch, 1))
    return x.astype(np.float32), y.astype(np.float32)


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


# The pcx side -----------------------------------------------------------------------------


def _activation(name: str) -> Callable:
    import jax

    return {
        "gelu": jax.nn.gelu,
        "leaky_relu": jax.nn.leaky_relu,
        "tanh": jax.nn.tanh,
        "hard_tanh": jax.nn.hard_tanh,
        "relu": jax.nn.relu,
    }[name]


def _pcx_layers(family: Family) -> list:
    """The pcx layers, bottom to top (the documented order)."""
    import equinox as eqx
    import pcx.nn as pxnn

    class ConvTranspose(pxnn.Layer):
        """A transposed conv as the deconv script's own wrapper (conv_transpose_layer.py)
        makes it: eqx.nn.ConvTranspose with its parameters as pcx LayerParams."""

        def __init__(self, layer: Layer, key) -> None:
            super().__init__(
                eqx.nn.ConvTranspose,
                num_spatial_dims=2,
                in_channels=layer.shape_in,
                out_channels=layer.shape_out,
                kernel_size=layer.kernel,
                stride=layer.stride,
                padding=layer.padding,
                output_padding=layer.output_padding,
                key=key,
            )

    import pcx

    out = []
    for layer in family.layers:
        if layer.kind == "linear":
            out.append(pxnn.Linear(layer.shape_in, layer.shape_out))
        elif layer.kind == "conv":
            out.append(
                pxnn.Conv2d(
                    layer.shape_in,
                    layer.shape_out,
                    kernel_size=(3, 3),
                    stride=(1, 1),
                    padding=(layer.padding, layer.padding),
                )
            )
        else:
            out.append(ConvTranspose(layer, pcx.RKG()))
    return out


def _build(family: Family):
    """The family's network as a pcx EnergyModule, structured as the code's classes are."""
    import jax.numpy as jnp
    import pcx
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc

    act = _activation(family.activation)
    output_energy = pxc.ce_energy if family.energy == "ce" else pxc.se_energy

    class Classifier(pxc.EnergyModule):
        """The code's ConvNet / LinearModel / VGGNet_skip: a vode after every conv block
        (conv -> act -> pool) and every hidden linear layer, a linear output vode clamped to
        the label; VGG-19's skip adds a linear map of a conv block's state to the output."""

        def __init__(self) -> None:
            super().__init__()
            self.act = pcx.static(act)
            layers = _pcx_layers(family)
            self.body = layers[:-1] if family.skip else layers
            self.long_skip = layers[-1] if family.skip else None
            self.pool = pxnn.MaxPool2d(kernel_size=2, stride=2)
            self.vodes = [pxc.Vode() for _ in self.body[:-1]]
            self.vodes.append(pxc.Vode(energy_fn=output_energy))
            self.vodes[-1].h.frozen = True

        def __call__(self, x, y):
            skip = None
            last = len(self.body) - 1
            for index, (spec, layer, vode) in enumerate(
                zip(family.layers, self.body, self.vodes, strict=False)
            ):
                if spec.kind == "linear":
                    x = layer(x.reshape(-1))
                    if index == last:
                        if skip is not None:
                            x = x + skip
                    else:
                        x = self.act(x)
                else:
                    x = self.act(layer(x))
                    if spec.pool:
                        x = self.pool(x)
                x = vode(x)
                if family.skip is not None and index == family.skip[0]:
                    skip = self.long_skip(x.reshape(-1))
            if y is not None:
                self.vodes[-1].set("h", y)
            return self.vodes[-1].get("u")

    def to_zero(node, key, value, rkg):
        return jnp.zeros_like(value)

    class Decoder(pxc.EnergyModule):
        """The code's PCDecoder / PCDeconvDecoder / associative-memory Decoder: a free latent
        vode with zero energy, then one vode per layer (act on all but the linear output),
        every vode's h and u set to zero at initialisation, the data clamped at the top."""

        def __init__(self) -> None:
            super().__init__()
            self.act = pcx.static(act)
            self.layers = _pcx_layers(family)
            zero = {pxc.STATUS.INIT: ("h, u <- u:to_zero",)}
            self.vodes = [pxc.Vode(energy_fn=pxc.zero_energy)]
            self.vodes += [
                pxc.Vode(ruleset=zero, tforms={"to_zero": to_zero}) for _ in self.layers[:-1]
            ]
            # The data vode: its h is overwritten by the data right after initialisation, so
            # its initial rule does not matter (the autoencoders zero it, the memory does not).
            self.vodes.append(pxc.Vode())
            self.vodes[-1].h.frozen = True

        def __call__(self, x, y):
            # pcx 0.6.3's Vode takes no shape, so the latent is set from a zero input here,
            # where v0.6.1's code set it by a "to_zero" rule on a shaped vode: both start it
            # at zero, and its zero energy makes its u irrelevant.
            h = self.vodes[0](jnp.zeros(family.latent_shape))
            last = len(self.layers) - 1
            for index, (layer, vode) in enumerate(zip(self.layers, self.vodes[1:], strict=True)):
                h = layer(h)
                h = vode(h if index == last else self.act(h))
            if y is not None:
                self.vodes[-1].set("h", y.reshape(self.vodes[-1].get("u").shape))
            return self.vodes[-1].get("u")

    return Classifier() if family.kind == "classifier" else Decoder()


def _set_weights(layers: list, weights: list[np.ndarray]) -> None:
    """Load the drawn arrays into the pcx layers (weight, bias per layer), checking shapes."""
    import jax.numpy as jnp

    arrays = iter(weights)
    for layer in layers:
        for name in ("weight", "bias"):
            param = getattr(layer.nn, name)
            value = next(arrays)
            if tuple(param.get().shape) != value.shape:
                raise SystemExit(
                    f"{name} of {layer}: pcx {param.get().shape} vs drawn {value.shape}"
                )
            param.set(jnp.asarray(value))


def _layer_objects(model, family: Family) -> list:
    if family.kind == "decoder":
        return list(model.layers)
    return [*model.body, *([model.long_skip] if family.skip else [])]


def run_family(family: Family) -> dict[str, Any]:
    """Run the code's training step (and recall) in pcx; return the fixture's content."""
    import jax
    import jax.numpy as jnp
    import optax
    import pcx
    import pcx.functional as pxf
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc
    import pcx.utils as pxu

    pcx.RKG.seed(0)
    model = _build(family)
    dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
    x_np, y_np = (a.astype(dtype) for a in draw_batch(family))
    weights = [w.astype(dtype) for w in draw_weights(family)]
    batch = family.batch

    # Clamps: a classifier takes the input at the bottom and the label at the top; a
    # decoder's top is the data (the code passes the image as its 'example').
    def clamps(x, y):
        return (x, y) if family.kind == "classifier" else (x, x)

    per_example = pxu.M(pxc.VodeParam | pxc.VodeParam.Cache).to((None, 0))

    @pxf.vmap(per_example, in_axes=(0, 0), out_axes=0)
    def forward(x, y, *, model):
        return model(x, y)

    @pxf.vmap(per_example, in_axes=(0,), out_axes=(None, 0), axis_name="batch")
    def energy(x, *, model):
        inp = x if family.kind == "classifier" else None
        model(inp, None)
        per_vode = jnp.stack([v.energy() for v in model.vodes])
        return jax.lax.pmean(model.energy().sum(), "batch"), per_vode

    def free_states():
        return pxu.M_hasnot(pxc.VodeParam, frozen=True)

    state_scale = float(batch) if family.state_scale == "per-example" else None

    @pxf.jit(static_argnums=0)
    def train_step(T: int, x, y, *, model, optim_h):
        model.train()
        bottom, top = clamps(x, y)
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            forward(bottom, top, model=model)
        optim_h.init(free_states()(model))
        inference = pxf.value_and_grad(free_states().to([False, True]), has_aux=True)(energy)
        for _ in range(T):
            with pxu.step(model, clear_params=pxc.VodeParam.Cache):
                _, g = inference(bottom, model=model)
            optim_h.step(model, g["model"], scale_by=state_scale)
        optim_h.clear()
        learning = pxf.value_and_grad(pxu.M(pxnn.LayerParam).to([False, True]), has_aux=True)
        with pxu.step(model, clear_params=pxc.VodeParam.Cache):
            (_, per_vode), g = learning(energy)(bottom, model=model)
        grads = []
        for layer in _layer_objects(g["model"], family):
            grads += [layer.nn.weight.get(), layer.nn.bias.get()]
        states = [v.h.get() for v in model.vodes[:-1]]
        return per_vode, states, grads

    lr = family.state_lr if family.run_lr is None else family.run_lr
    optim_h = pxu.Optim(lambda: optax.sgd(lr, momentum=family.state_momentum))
    with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
        forward(*clamps(jnp.asarray(x_np), jnp.asarray(y_np)), model=model)
    _set_weights(_layer_objects(model, family), weights)

    per_vode, states, grads = train_step(family.T, x_np, y_np, model=model, optim_h=optim_h)
    result: dict[str, Any] = {
        "energies": np.asarray(per_vode, np.float64).reshape(batch, -1).tolist(),
        "states": [summarise(f"state/{i}", np.asarray(s)) for i, s in enumerate(states)],
        "grads": [summarise(f"grad/{i}", np.asarray(g)) for i, g in enumerate(grads)],
    }
    if family.recall_T:
        result["recall"] = _recall(family, model, x_np, energy, forward, free_states)
    return result


def _recall(family: Family, model, x_np, energy, forward, free_states) -> dict[str, Any]:
    """The code's unmask_on_batch: the cue (bottom half zeroed) at the top, the top vode made
    free, each step followed by resetting the clamped top half; the result clipped to [0, 1]."""
    import jax.numpy as jnp
    import optax
    import pcx.functional as pxf
    import pcx.predictive_coding as pxc
    import pcx.utils as pxu

    free = jnp.asarray(bottom_half_free(MEMORY_IMAGE))
    cue = jnp.asarray(x_np) * (1.0 - free)
    optim_h = pxu.Optim(lambda: optax.sgd(family.state_lr, momentum=family.state_momentum))

    @pxf.jit(static_argnums=0)
    def unmask(T: int, cue, *, model, optim_h):
        model.eval()
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            forward(cue, cue, model=model)
        model.vodes[-1].h.frozen = False
        optim_h.init(free_states()(model))
        inference = pxf.value_and_grad(free_states().to([False, True]), has_aux=True)(energy)
        for _ in range(T):
            with pxu.step(model, clear_params=pxc.VodeParam.Cache):
                _, g = inference(cue, model=model)
            optim_h.step(model, g["model"])
            top = model.vodes[-1].h.get()
            model.vodes[-1].h.set(jnp.where(free > 0, top, cue))
        optim_h.clear()
        return jnp.clip(model.vodes[-1].h.get(), 0.0, 1.0)

    recalled = unmask(family.recall_T, cue, model=model, optim_h=optim_h)
    model.vodes[-1].h.frozen = True
    return summarise("recall", np.asarray(recalled))


def versions() -> dict[str, str]:
    from importlib.metadata import version

    import jax

    out = {name: version(name) for name in ("pcx", "equinox", "optax", "numpy")}
    out["jax"] = jax.__version__
    out["python"] = sys.version.split()[0]
    out["device"] = str(jax.devices()[0].platform)
    return out


def fixture(family: Family) -> dict[str, Any]:
    """The family's file: the float64 run (the reference) and the float32 run, whose distance
    from it is pcx's own float32 round-off on every statistic (the test's noise scale)."""
    import jax

    x, y = draw_batch(family)
    spec = asdict(family)
    jax.config.update("jax_enable_x64", False)
    single = run_family(family)
    jax.config.update("jax_enable_x64", True)
    double = run_family(family)
    jax.config.update("jax_enable_x64", False)
    return {
        "family": spec,
        "versions": versions(),
        "weights": {
            "order": [
                [f"{i}/{layer.kind}/{part}", list(shape)]
                for i, layer in enumerate(family.layers)
                for part, shape in (("weight", layer.weight_shape()), ("bias", layer.bias_shape()))
            ],
            "checksum": checksum(draw_weights(family)),
        },
        "batch_checksum": checksum([x, y]),
        **double,
        "float32": _statistics_only(single),
    }


def _statistics_only(run: dict[str, Any]) -> dict[str, Any]:
    """A run's summaries without their (shared) positions and shapes."""

    def strip(summary: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in summary.items() if k not in ("positions", "shape")}

    out: dict[str, Any] = {"energies": run["energies"]}
    out["states"] = [strip(s) for s in run["states"]]
    out["grads"] = [strip(g) for g in run["grads"]]
    if "recall" in run:
        out["recall"] = strip(run["recall"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.family or FAMILIES:
        content = fixture(FAMILIES[name])
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(content, separators=(",", ":")) + "\n")
        print(f"{path}: {path.stat().st_size / 1024:.1f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
