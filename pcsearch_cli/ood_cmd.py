"""``pcsearch ood``: train a PC classifier, then tell its data from other data by energy.

The paper's Appendix F: MNIST against Fashion-MNIST (and others) with a PC-CE classifier;
AUROC of the energy before and after test-time inference against the maximum softmax.
Without a second data set on disk, ``--ood noise`` or ``--ood permuted`` make OOD data of
the same shape from the in-distribution test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pcsearch.catalogue import DATASET_SHAPES, algorithm_info, task_info
from pcsearch.errors import PCSearchError
from pcsearch_cli.main import parse_assignments

MADE_UP = ("noise", "permuted")


def run(args: argparse.Namespace) -> int:
    task = task_info(args.task)
    algorithm_info(args.algorithm)
    if task.mode != "discriminative":
        raise PCSearchError(f"--task {args.task} is not a classification task; use e.g. mlp-mnist")
    if args.ood not in MADE_UP:
        if args.ood not in DATASET_SHAPES:
            raise PCSearchError(
                f"--ood {args.ood!r} is neither a data set ({', '.join(DATASET_SHAPES)}) "
                f"nor one of {', '.join(MADE_UP)}"
            )
        if DATASET_SHAPES[args.ood][0] != DATASET_SHAPES[task.dataset][0]:
            raise PCSearchError(
                f"--ood {args.ood} has inputs of shape {DATASET_SHAPES[args.ood][0]}, the task's "
                f"{task.dataset} {DATASET_SHAPES[task.dataset][0]}; choose data of the same shape"
            )
    overrides: dict[str, Any] = parse_assignments(args.set)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    from pcsearch.params import resolve

    resolve(args.task, args.algorithm, overrides)  # bad input fails before JAX loads
    import jax

    from pcsearch.training import train
    from pcsearch.training.device_data import device_data
    from pcsearch.training.ood import ood_report, shaped_like

    reports = []

    def score(plan, model, hp) -> None:
        inside = plan.data.x_test
        if args.ood in MADE_UP:
            outside = shaped_like(args.ood, inside, jax.random.PRNGKey(args.seed + 1))
        else:
            other = device_data(args.ood, args.data_dir, batch_size=plan.params["batch_size"])
            outside = other.x_test
        names = (task.dataset, args.ood)
        reports.append(ood_report(plan.algorithm, model, hp, inside, outside, names, args.steps))

    result = train(
        args.task,
        args.algorithm,
        overrides,
        seed=args.seed,
        data_dir=args.data_dir,
        on_finish=score,
        max_batches=args.max_batches,
    )
    report = reports[0]
    if args.json:
        print(json.dumps({"run": result.to_dict(), "ood": report.to_dict()}))
        return 0
    print(
        f"{args.task} / {args.algorithm}: test {result.metric} {result.value:.4f} "
        f"after {len(result.history)} epochs"
    )
    print(
        f"OOD: {report.in_distribution} (in) against {report.out_of_distribution} (out), "
        f"{report.examples} examples each, {report.steps} inference steps"
    )
    print(f"  AUROC energy before inference  {report.auroc_energy_before:.4f}")
    print(f"  AUROC energy after inference   {report.auroc_energy_after:.4f}")
    print(f"  AUROC 1 - max softmax          {report.auroc_softmax:.4f}")
    print(
        f"  mean energy after inference: in {report.mean_energy_in:.4g}, "
        f"out {report.mean_energy_out:.4g}"
    )
    if result.status != "completed":
        print(f"note: the run {result.status}: {result.reason}", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "ood", help="out-of-distribution detection by energy (the paper's Appendix F)"
    )
    p.add_argument("--task", default="mlp-mnist", help="a classification task (default mlp-mnist)")
    p.add_argument("--algorithm", default="pc-ce", help="a PC algorithm (default pc-ce)")
    p.add_argument(
        "--ood",
        default="fashionmnist",
        help="OOD data: a data set of the same shape, or noise, or permuted (default fashionmnist)",
    )
    p.add_argument("--steps", type=int, default=100, help="test-time inference steps (100)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--data-dir")
    p.add_argument("--max-batches", type=int, help="cut every epoch to N batches")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=run)
