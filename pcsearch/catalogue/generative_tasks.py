"""The generative tasks: autoencoders (Table 2), MCPC sampling and associative memory
(Table 3)."""

from __future__ import annotations

from pcsearch.catalogue.memory_cells import MEMORY_CELLS
from pcsearch.catalogue.paper_best import PAPER_VALUES
from pcsearch.catalogue.task_types import TaskInfo

_AUTOENCODER = {
    "batch_size": 200, "epochs": 30, "T": 20, "state_optimizer": "sgd",
    "weight_optimizer": "adamw", "weight_schedule": "constant", "init": "zeros",
    "activation": "hard_tanh",
}  # fmt: skip
"""Tables 8 and 9, and the paper's code (examples/autoencoders/*/pc_*.py in liukidar/pcx):
every state starts at zero, h_0 included; AdamW at a constant learning rate; hard_tanh is
its configs' usual activation. The paper's best values per algorithm are in paper_best.json."""


_AE_CODE = "liukidar/pcx v0.6.1, examples/s4_2_generative_mode/autoencoders/"
_AUTOENCODER_SOURCE = (
    f"Tables 8 and 9 (the paper) and its code's configs ({_AE_CODE}*/configs/*.yaml): batch "
    "200, 30 epochs, T = 20, zero states, AdamW at a constant rate"
)
_AUTOENCODER_ENERGY = {
    model: f"{_AE_CODE}{folder}: optim_h.step(..., scale_by_batch_size=True) scales the "
    "batch-mean gradient back to each example's own"
    for model, folder in (
        ("ae-linear", "linear/pc_decoder.py"),
        ("ae-deconv", "deconv/pc_deconv.py"),
    )
}


def autoencoder_tasks() -> list[TaskInfo]:
    """Section 4.2's reconstruction tasks (Table 2), scored by test MSE per pixel. Pixels
    stay in [0, 1] (the "-raw" data sets), as the paper's code leaves them."""
    linear = _AUTOENCODER | {"latent_dim": 64, "hidden_width": 128, "hidden_layers": 2}
    deconv = _AUTOENCODER | {"kernel_size": 4}
    grid = [
        ("ae-mnist", "mnist-raw", "ae-linear", "MNIST", linear),
        ("ae-fashionmnist", "fashionmnist-raw", "ae-linear", "Fashion-MNIST", linear),
        ("ae-cifar10", "cifar10-raw", "ae-deconv", "CIFAR-10", deconv),
        ("ae-celeba", "celeba", "ae-deconv", "CelebA at 32x32", deconv),
    ]
    layout = {
        "ae-linear": "decoder 64-128-128-784 (Table 9); BP: the code's linear "
        "784-128-128-64-128-128-784, no activations",
        "ae-deconv": "deconv decoder from a 4x4x8 latent (Table 8); BP: a conv encoder in front",
    }
    return [
        TaskInfo(
            name,
            dataset,
            model,
            f"{title} reconstruction, {layout[model]}; pixels in [0, 1]",
            metric="mse",
            direction="minimize",
            defaults=dict(defaults),
            mode="autoencoder",
            defaults_source=_AUTOENCODER_SOURCE,
            state_energy_source=_AUTOENCODER_ENERGY[model],
        )
        for name, dataset, model, title, defaults in grid
    ]


_MCPC = {"weight_optimizer": "adamw", "weight_schedule": "constant", "h_var": 1.0,
         "T_sample": 10_000}  # fmt: skip
_MCPC_IRIS = _MCPC | {
    "latent_dim": 2, "hidden_width": 64, "hidden_layers": 1, "activation": "tanh",
    "state_lr": 0.01, "state_momentum": 0.9, "input_var": 0.01, "weight_lr": 1e-3,
    "weight_decay": 1e-4, "batch_size": 150, "T": 500, "epochs": 68, "init": "forward",
}  # fmt: skip
"""Appendix C.2's iris values; the weight lr (1e-3) and the 68 epochs of 150 batches are the
paper's code's (its iris MCPC script in liukidar/pcx), which the paper does not state."""
_MCPC_MNIST = _MCPC | {"hidden_width": 256, "hidden_layers": 3, "T": 1000, "epochs": 100}
"""Appendix C.2: 256-unit hidden layers, T = 1000 (10000 to generate); 100 epochs as the
paper's code trains. The searched values (Table 10) are the paper's best, in paper_best.json."""
_MNIST_FID_BEST = PAPER_VALUES[("mcpc-mnist", "mcpc")].values
"""mcpc-mnist's FID-optimised values (the paper's code; paper_best.json), lent to the
conditional task, for which the paper publishes none."""


def sampling_tasks() -> list[TaskInfo]:
    """Section 4.2's MCPC tasks (Appendix C.2): learn p(x) and sample it. Scored by the MMD
    between samples and held-out data (``pcsearch.training.sampling``)."""
    tasks = [
        ("mcpc-iris", "iris", "iris sepal and petal length, 2-64-2 (h_0: 2-d latent)",
         _MCPC_IRIS, "sampling"),
        ("mcpc-mnist", "mnist", "MNIST generation, 30-256-256-256-784 (h_0: 30-d latent)",
         _MCPC_MNIST | {"latent_dim": 30, "init": "zeros"}, "sampling"),
        ("mcpc-mnist-conditional", "mnist-parity",
         "MNIST generation given even/odd, 2-256-256-256-784 (h_0: the one-hot parity); "
         "defaults: mcpc-mnist's FID-best values", _MCPC_MNIST | _MNIST_FID_BEST,
         "conditional-sampling"),
    ]  # fmt: skip
    return [
        TaskInfo(
            name,
            dataset,
            "mlp-generator",
            summary,
            metric="mmd",
            direction="minimize",
            defaults=dict(defaults),
            mode=mode,
        )
        for name, dataset, summary, defaults, mode in tasks
    ]


_MEMORY_BASE = {
    "latent_dim": 512, "hidden_width": 512, "hidden_layers": 2, "activation": "tanh",
    "memory_size": 50, "corruption": "mask", "batch_size": 50, "epochs": 500,
    "state_momentum": 0.0, "state_optimizer": "sgd", "init": "zeros",
    "weight_optimizer": "adamw", "weight_decay": 1e-4, "weight_schedule": "constant",
}  # fmt: skip
"""Appendix C.3 and the paper's code (examples/s4_2_generative_mode/associative_memory in
liukidar/pcx v0.6.1): a [512, d, d, pixels] decoder, tanh, 500 epochs of batch 50, every
state starting at zero, states by SGD without momentum, AdamW (optax's default decay 1e-4)
at a constant rate."""
_DEFAULT_CELL = MEMORY_CELLS[("am-tinyimagenet", "mask", 512, 50)]
_MEMORY = _MEMORY_BASE | _DEFAULT_CELL.values()
"""The base values and the default cell's (mask, d = 512, n = 50: the code's h_lr 0.5,
w_lr 5e-4, T_train 50, T_gen 50000). That code steps the states on the batch-mean energy of
its batches of 50, so h_lr is 50 times pcsearch's per-example state_lr: 0.5 / 50 = 0.01.
Another cell's values (memory_cells.json) replace these four where a run selects it with
corruption, hidden_width and memory_size (``memory_cells.with_cell_values``). The code has
no MNIST memory: am-mnist borrows the default cell's values."""


def memory_tasks() -> list[TaskInfo]:
    """Section 4.2's associative memories (Table 3, Appendix C.3): memorise ``memory_size``
    images, recall them from noisy or half-masked cues (``pcsearch.training.memory``)."""
    tasks = [
        ("am-mnist", "mnist-raw", "MNIST", "512-512-512-784"),
        ("am-tinyimagenet", "tinyimagenet", "Tiny ImageNet (64x64, flattened)",
         "512-d-d-12288 with d = hidden_width (the paper: 512, 1024, 2048); the paper's "
         "code's values per (corruption, d, n) cell of Table 3"),
    ]  # fmt: skip
    return [
        TaskInfo(
            name,
            dataset,
            "mlp-generator",
            f"associative memory of {title}, {layout}; MSE of memory_size training images "
            "drawn at random by the data seed, recalled from noisy or half-masked cues "
            "(corruption); pixels in [0, 1]",
            metric="mse",
            direction="minimize",
            defaults=dict(_MEMORY),
            mode="memory",
        )
        for name, dataset, title, layout in tasks
    ]
