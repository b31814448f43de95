"""``pcsearch ood``: train a PC classifier, then tell its data from other data by energy.

The paper's Appendix F as its code runs it (``pcsearch.catalogue.ood``): the task
``mlp-mnist-ood`` (784-512-512-10 GELU PC-CE classifier, 30,000 MNIST images, 75 epochs),
then 100 inference steps on the first 8,000 test images of MNIST and of each OOD set
(Fashion-MNIST, KMNIST, EMNIST letters, notMNIST), every set normalised by its own
statistics; AUROC of the energy before and after inference against the maximum softmax.
OOD sets whose files are not in the data folder are skipped, each with the reason and
the fix, before training starts. ``--task mlp-mnist`` is what ``pcsearch ood`` ran before
it followed the code (Table 1's network and best values, Fashion-MNIST only). Without a
second data set on disk, ``--ood noise`` or ``--ood permuted`` make OOD data of the same
shape from the in-distribution test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pcsearch.catalogue import DATASET_SHAPES, algorithm_info, task_info
from pcsearch.catalogue.ood import EXAMPLES, OOD_SETS, TEST_STEPS
from pcsearch.errors import PCSearchError
from pcsearch_cli.main import parse_assignments
from pcsearch_cli.run_flags import add_run_flags

MADE_UP = ("noise", "permuted")


def ood_names(value: str | None, dataset: str) -> list[str]:
    """The OOD sets asked for (comma-separated), or the task's data set's default ones;
    every name checked against the catalogue and the in-distribution shape."""
    if value is None:
        if dataset not in OOD_SETS:
            raise PCSearchError(
                f"--ood is needed: no default OOD sets for {dataset}; name data sets of its "
                f"shape, or {' or '.join(MADE_UP)} (default sets exist for "
                f"{', '.join(OOD_SETS)})"
            )
        return list(OOD_SETS[dataset])
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise PCSearchError("--ood is empty; name one or more OOD sets, comma-separated")
    for name in names:
        if name in MADE_UP:
            continue
        if name not in DATASET_SHAPES:
            raise PCSearchError(
                f"--ood {name!r} is neither a data set ({', '.join(DATASET_SHAPES)}) "
                f"nor one of {', '.join(MADE_UP)}"
            )
        if DATASET_SHAPES[name][0] != DATASET_SHAPES[dataset][0]:
            raise PCSearchError(
                f"--ood {name} has inputs of shape {DATASET_SHAPES[name][0]}, the task's "
                f"{dataset} {DATASET_SHAPES[dataset][0]}; choose data of the same shape"
            )
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    task = task_info(args.task)
    algorithm_info(args.algorithm)
    if task.mode != "discriminative":
        raise PCSearchError(f"--task {args.task} is not a classification task; use e.g. mlp-mnist")
    if args.examples < 1:
        raise PCSearchError(f"--examples {args.examples} must be at least 1 (the code's: 8000)")
    names = ood_names(args.ood, task.dataset)
    overrides: dict[str, Any] = parse_assignments(args.set)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    from pcsearch.params import resolve

    resolve(args.task, args.algorithm, overrides)  # bad input fails before JAX loads
    import jax
    import jax.numpy as jnp

    from pcsearch.training import train
    from pcsearch.training.ood import load_ood_sets, ood_reports, shaped_like

    on_disk = [n for n in names if n not in MADE_UP]
    found, skipped = load_ood_sets(on_disk, args.data_dir, args.examples)
    for name, why in skipped.items():
        print(f"skipping OOD set {name}: {why}", file=sys.stderr)
    if not found and all(n not in MADE_UP for n in names):
        raise PCSearchError(
            "none of the OOD sets is in the data folder, so nothing would be scored: "
            "fetch them (see above), or use --ood permuted or --ood noise"
        )
    reports = []

    def score(plan, model, hp) -> None:
        inside = plan.data.x_test
        outside = {}
        for name in names:
            if name in MADE_UP:
                outside[name] = shaped_like(name, inside, jax.random.PRNGKey(args.seed + 1))
            elif name in found:
                outside[name] = jnp.asarray(found[name])
        reports.extend(
            ood_reports(
                plan.algorithm,
                model,
                hp,
                (task.dataset, inside),
                outside,
                args.steps,
                args.examples,
            )
        )

    result = train(
        args.task,
        args.algorithm,
        overrides,
        seed=args.seed,
        data_dir=args.data_dir,
        on_finish=score,
        max_batches=args.max_batches,
    )
    if args.json:
        out = {"run": result.to_dict(), "ood": [r.to_dict() for r in reports], "skipped": skipped}
        print(json.dumps(out))
        return 0
    _print(args, result, reports, skipped)
    return 0


def _print(args: argparse.Namespace, result: Any, reports: list, skipped: dict[str, str]) -> None:
    print(
        f"{args.task} / {args.algorithm}: test {result.metric} {result.value:.4f} "
        f"after {len(result.history)} epochs"
    )
    first = reports[0]
    print(
        f"OOD: {first.in_distribution} (in) against {len(reports)} set(s), "
        f"{first.examples} examples each, {first.steps} inference steps"
    )
    print(
        f"  {'out of distribution':<20} {'AUROC: energy before':>20} {'after':>7} "
        f"{'1-softmax':>9}   {'mean energy after: in':>21} {'out':>8}   {'NLL in':>10} "
        f"{'NLL out':>10}"
    )
    for r in reports:
        print(
            f"  {r.out_of_distribution:<20} {r.auroc_energy_before:>20.4f} "
            f"{r.auroc_energy_after:>7.4f} {r.auroc_softmax:>9.4f}   "
            f"{r.energy_after_in:>21.4g} {r.energy_after_out:>8.4g}   {r.nll_in:>10.4g} "
            f"{r.nll_out:>10.4g}"
        )
    for name in skipped:
        print(f"  {name:<20} skipped: not in the data folder (`pcsearch data fetch {name}`)")
    if result.status != "completed":
        print(f"note: the run {result.status}: {result.reason}", file=sys.stderr)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "ood", help="out-of-distribution detection by energy (the paper's Appendix F)"
    )
    p.add_argument(
        "--task",
        default="mlp-mnist-ood",
        help="a classification task (default mlp-mnist-ood: Appendix F's network as its code "
        "trains it; mlp-mnist: Table 1's, what pcsearch ran before)",
    )
    p.add_argument("--algorithm", default="pc-ce", help="a PC algorithm (default pc-ce)")
    p.add_argument(
        "--ood",
        help="OOD sets, comma-separated: data sets of the same shape, noise or permuted "
        "(default: the task's, e.g. fashionmnist-ood,kmnist,emnist-letters,notmnist for "
        "mlp-mnist-ood, fashionmnist for mlp-mnist); sets not on disk are skipped",
    )
    p.add_argument(
        "--steps", type=int, default=TEST_STEPS, help=f"test-time inference steps ({TEST_STEPS})"
    )
    p.add_argument(
        "--examples",
        type=int,
        default=EXAMPLES,
        help=f"first N test images of every set, fewer if a set is smaller ({EXAMPLES})",
    )
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int, default=0)
    add_run_flags(p, max_batches=True)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=run)
