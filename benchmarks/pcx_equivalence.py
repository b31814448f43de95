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

Nudging (``Family.beta``, MLP/mnist/PC_SE.py: PN at +0.55, NN at -0.2, its first epoch):
the output is clamped to u - beta (u - y) after the forward pass, and the fixture's weight
gradients are the code's times 1/beta, as its ``optim_w.step(..., mul=1/beta)`` gets them.

iPC (``Family.weight_lr``, MLP/mnist/iPC_SE.py): at each of the T steps one gradient moves
the states (as above) and the weights, by SGD at ``weight_lr`` in place of the code's AdamW
(the step's structure is what is compared; the optimiser is the run's choice). The fixture's
``grads`` are then (w_0 - w_T) / weight_lr, the sum of the T weight gradients, and its
energies those of the last step, before its update.

MCPC (``GeneratorFamily``, mcpc_mnist.py): the code's generator from its constant zero input,
every state at zero, ``T`` Langevin steps with its ``sgdld`` (noise of variance
2 h_var (1 - momentum) / lr added to each example's state gradient, then momentum SGD).
The noise is not the code's seeded draw: ``draw_noise`` draws it in NumPy (one
[T, batch, width] array per free state, from ``default_rng(noise_seed)``) and the run adds
it in place of ``optax.add_noise``'s (``replayed_noise``), so the test can feed pcsearch the
very same draws; ``mcpc-mnist-noise-free`` runs the same step at h_var 0. The code's first
weight multiplies the zero input: its gradient is zero, and pcsearch's layout has no such
weight (only its bias, the first state's prior mean).

Modules: ``pcx_equivalence_families`` (the families and the NumPy recipes above, shared with
the test; no pcx), ``pcx_equivalence_models`` (the networks in pcx),
``pcx_equivalence_runs`` (the code's step in pcx, the fixture), and this file, the CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: make `benchmarks.*` importable

from benchmarks.pcx_equivalence_families import (  # noqa: E402
    FAMILIES,
    MEMORY_IMAGE,
    Family,
    GeneratorFamily,
    Layer,
    checksum,
    draw_batch,
    draw_noise,
    draw_weights,
    projection,
    summarise,
)

__all__ = [
    "FAMILIES",
    "MEMORY_IMAGE",
    "Family",
    "GeneratorFamily",
    "Layer",
    "checksum",
    "draw_batch",
    "draw_noise",
    "draw_weights",
    "main",
    "projection",
    "summarise",
]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.pcx_equivalence_runs import fixture  # pcx's environment only

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
