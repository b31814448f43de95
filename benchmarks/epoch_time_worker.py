"""The child side of ``epoch_time.py --worker``: pcsearch ``train`` runs, one record out.

Imported by the child's ``main``, which may run under the peer's interpreter (the same-JAX
diagnostic), so JAX and pcsearch are imported inside the functions, never at the top.
"""

from __future__ import annotations

import functools
import resource
from typing import Any


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run pcsearch ``train`` once per entry of ``spec["runs"]``, in this one process.

    Runs in a child process started by the parent; its printed record is the measurement.
    """
    import jax

    if spec.get("bundled_npz"):
        _bundled_from_npz(spec["bundled_npz"])
    from pcsearch.catalogue import task_info
    from pcsearch.training import train, train_batched
    from pcsearch.training.environment import environment
    from pcsearch.training.epoch_loop import choose_epoch_loop

    loop = spec.get("epoch_loop", "auto")
    chosen = choose_epoch_loop(loop, jax.default_backend(), task_info(spec["task"]).model)

    members = int(spec.get("members", 1))
    common = {
        "data_dir": spec["data_dir"],
        "synthetic": bool(spec.get("synthetic")),
        "max_batches": spec.get("max_batches"),
        "epoch_loop": loop,
    }
    runs = []
    for overrides in spec["runs"]:
        if members > 1:  # K trials trained together: one epoch time for all of them
            seeds = [spec["seed"] + k for k in range(members)]
            result = train_batched(
                spec["task"], spec["algorithm"], [overrides] * members, seeds=seeds, **common
            )[0]
        else:
            result = train(spec["task"], spec["algorithm"], overrides, seed=spec["seed"], **common)
        runs.append(
            {
                "epoch_seconds": [r.seconds for r in result.history],
                "accuracy": [r.value for r in result.history],
                "status": result.status,
            }
        )
    env = environment()
    return {
        "runs": runs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "versions": {k: env[k] for k in ("pcsearch", "jax", "jaxlib", "equinox", "optax")},
        "device": env["device"],
        "jax_backend": jax.default_backend(),
        "epoch_loop": chosen,
        "members": members,
    }


def _bundled_from_npz(path: str) -> None:
    """Serve the bundled data set from arrays the parent's pcsearch wrote.

    Only for the same-JAX diagnostic, whose interpreter (the peer's) may lack scikit-learn;
    it swaps a private loader, so the arrays are exactly those pcsearch itself produced.
    """
    import numpy as np

    from pcsearch.data import datasets

    @functools.cache  # like the loader it replaces, which pcsearch clears after use
    def load(name: str) -> datasets.Dataset:
        with np.load(path) as d:
            arrays = [d[k] for k in ("x_train", "y_train", "x_test", "y_test")]
        return datasets.Dataset(*arrays, num_classes=int(arrays[1].max()) + 1, name=name)

    datasets._load_bundled = load
