"""The generative tasks: autoencoders (Table 2), MCPC sampling and associative memory
(Table 3)."""

from __future__ import annotations

from pcsearch.catalogue.memory_cells import MEMORY_CELLS
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


_MCPC_CODE = "liukidar/pcx v0.6.1, examples/s4_2_generative_mode/generation_mcpc/"
_MCPC = {"weight_optimizer": "adamw", "weight_schedule": "constant", "h_var": 1.0,
         "T_sample": 10_000, "layout": "code"}  # fmt: skip
"""Every MCPC task builds its code's generator (``layout``; pcsearch.models.generator):
states before the activation and, unconditionally, no latent: the first hidden state's
prior is N(b_0, I) around a learned bias. ``layout="paper-text"`` is Appendix C.2's."""
_MCPC_IRIS = _MCPC | {
    "latent_dim": 2, "hidden_width": 64, "hidden_layers": 2, "activation": "tanh",
    "data_activation": "none", "sample_from": "state",
    "state_lr": 0.01, "state_momentum": 0.9, "input_var": 0.01, "weight_lr": 1e-3,
    "weight_decay": 1e-4, "batch_size": 150, "T": 500, "epochs": 68, "init": "forward",
}  # fmt: skip
"""Appendix C.2's iris values, in its code's network (mcpc_iris.py: nm_layers=3, two hidden
states of 64 after a zero 2-d input, a linear data layer, states initialised by a forward
pass, samples read from the data layer's state); the weight lr (1e-3) and the 68 epochs of
150 batches are that script's, which the paper does not state."""
_MCPC_MNIST = _MCPC | {
    "latent_dim": 30, "hidden_width": 256, "hidden_layers": 4, "T": 1000, "epochs": 100,
    "init": "zeros", "data_activation": "tanh", "sample_from": "prediction",
}  # fmt: skip
"""The code's MNIST generator (mcpc_mnist.py, mcpc_mnist_conditional.py: nm_layers=5, four
hidden states of 256, tanh at the data layer, every state set to zero before inference,
samples read from the data layer's noise-free prediction); T = 1000 (10000 to generate) and
100 epochs as the code trains. latent_dim (30) is the width of the code's zero input: it
only sets the initial spread of b_0 (and is the latent's width with layout=paper-text). The
searched values (Table 10) are the code's best, in paper_best.json, per task."""
_MCPC_SOURCE = {
    "mcpc-iris": f"Appendix C.2 and its code ({_MCPC_CODE}mcpc_iris.py, the non-linear "
    "model): the network, T, epochs and rates",
    "mcpc-mnist": f"Appendix C.2 and its code ({_MCPC_CODE}mcpc_mnist.py): the network, "
    "T = 1000, 10000 to sample, 100 epochs; the FID-optimised values (--metric fid)",
    "mcpc-mnist-conditional": f"its code ({_MCPC_CODE}mcpc_mnist_conditional.py): the "
    "network and the values its main sets",
}
_MCPC_ENERGY = {
    "mcpc-iris": f"{_MCPC_CODE}mcpc_iris.py: the states step on the batch-summed (psum) "
    "energy, each example's own gradient",
    **{
        task: f"{_MCPC_CODE}{script}: optim_h.step(..., True) scales the batch-mean (pmean) "
        "gradient back by the batch size, each example's own"
        for task, script in (
            ("mcpc-mnist", "mcpc_mnist.py"),
            ("mcpc-mnist-conditional", "mcpc_mnist_conditional.py"),
        )
    },
}
_MNIST_SCORES = (
    "; scored by the MMD to the test set, with FID and inception score from pcsearch's own "
    "MNIST classifier beside it (comparable in kind, not in value, to the paper's)"
)


def sampling_tasks() -> list[TaskInfo]:
    """Section 4.2's MCPC tasks (Appendix C.2): learn p(x) and sample it. Scored by the MMD
    between samples and held-out data (``pcsearch.training.sampling``)."""
    tasks = [
        ("mcpc-iris", "iris",
         "iris sepal and petal length, the code's 64-64-2 generator (h_1 ~ N(b_0, I), "
         "samples: the data layer's state; layout=paper-text, hidden_layers=1: the text's "
         "2-64-2 with a free 2-d latent)",
         _MCPC_IRIS, "sampling"),
        ("mcpc-mnist", "mnist",
         "MNIST generation, the code's 256x4-784 generator (h_1 ~ N(b_0, I), tanh data "
         "layer, samples: its noise-free prediction; layout=paper-text, hidden_layers=3: "
         "the text's 30-256-256-256-784 with a free 30-d latent)" + _MNIST_SCORES,
         _MCPC_MNIST, "sampling"),
        ("mcpc-mnist-conditional", "mnist-parity",
         "MNIST generation given even/odd, the code's 2-256x4-784 generator (h_0: the "
         "one-hot parity, tanh data layer, samples: its noise-free prediction)"
         + _MNIST_SCORES,
         _MCPC_MNIST, "conditional-sampling"),
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
            defaults_source=_MCPC_SOURCE[name],
            state_energy_source=_MCPC_ENERGY[name],
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
no MNIST memory: am-mnist runs each cell with the Tiny ImageNet cell's values
(``memory_cells.BORROWED_CELLS``)."""


_MEMORY_CODE = "liukidar/pcx v0.6.1, examples/s4_2_generative_mode/associative_memory/"
_MEMORY_SOURCE = {
    "am-tinyimagenet": f"Appendix C.3 and its code ({_MEMORY_CODE}associative_memory.py): "
    "the network, tanh, 500 epochs of batch 50, zero-initialised states; state_lr, "
    "weight_lr, T and T_recall per (corruption, hidden_width, memory_size) cell from its "
    "hps.json (pcsearch/catalogue/memory_cells.json), the defaults being the mask, d = 512, "
    "n = 50 cell",
    "am-mnist": "as am-tinyimagenet (the paper's code has no MNIST memory): each "
    "(corruption, hidden_width, memory_size) cell runs with the values the code tuned for "
    "that cell on Tiny ImageNet (pcsearch/catalogue/memory_cells.json)",
}
_MEMORY_ENERGY = (
    f"{_MEMORY_CODE}associative_memory.py steps the states on the batch-mean energy of "
    "batches of 50; its h_lr divided by 50 is the per-example state_lr here (memory_cells.py)"
)


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
            defaults_source=_MEMORY_SOURCE[name],
            state_energy_source=_MEMORY_ENERGY,
        )
        for name, dataset, title, layout in tasks
    ]
