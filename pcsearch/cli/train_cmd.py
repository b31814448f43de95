"""``pcsearch train``: one training run, with a progress bar or one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pcsearch.catalogue import algorithm_info, task_info
from pcsearch.cli.main import parse_assignments
from pcsearch.cli.progress import EpochBar


def run(args: argparse.Namespace) -> int:
    task_info(args.task)
    algorithm_info(args.algorithm)
    overrides: dict[str, Any] = parse_assignments(args.set)
    for flag, name in (("epochs", "epochs"), ("batch_size", "batch_size")):
        if getattr(args, flag) is not None:
            overrides[name] = getattr(args, flag)
    from pcsearch.params import resolve

    params = resolve(args.task, args.algorithm, overrides)  # bad input fails before JAX loads
    from pcsearch.training import train

    bar = None if args.json or not sys.stderr.isatty() else EpochBar(params["epochs"])
    result = train(
        args.task,
        args.algorithm,
        overrides,
        seed=args.seed,
        data_dir=args.data_dir,
        on_epoch=None if bar is None else bar.update,
    )
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        if bar is not None:
            bar.close()
        print(summary(result))
    return 0


def summary(result) -> str:
    lines = [f"{result.task} / {result.algorithm}: {result.status}"]
    if result.value is not None:
        lines.append(f"  test {result.metric}: {result.value:.4f} (best {result.best_value:.4f})")
    if result.reason:
        lines.append(f"  {result.reason}")
    seconds = [h.seconds for h in result.history]
    if seconds:
        steady = seconds[1:] or seconds
        lines.append(
            f"  {len(seconds)} epochs; first (compiling) {seconds[0]:.2f}s, "
            f"then {sum(steady) / len(steady):.2f}s per epoch"
        )
    lines.append("  params: " + ", ".join(f"{k}={v}" for k, v in result.params.items()))
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train one configuration")
    p.add_argument("--task", required=True, help="a task name (see `pcsearch tasks`)")
    p.add_argument("--algorithm", required=True, help="see `pcsearch algorithms`")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a hyperparameter, e.g. --set state_lr=0.02 (repeatable)",
    )
    p.add_argument(
        "--data-dir",
        help="folder holding <dataset>/ files (default: "
        "$PCSEARCH_DATA_DIR or ~/.cache/pcsearch/data)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=run)
