"""``pcsearch train``: one training run, with a progress bar or one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pcsearch.catalogue import algorithm_info, task_info
from pcsearch.training.epoch_loop import EPOCH_LOOP_CHOICES, EPOCH_LOOP_HELP
from pcsearch_cli.main import parse_assignments
from pcsearch_cli.progress import EpochBar
from pcsearch_cli.run_flags import add_max_batches, add_run_flags, add_synthetic


def run(args: argparse.Namespace) -> int:
    task_info(args.task)
    algorithm_info(args.algorithm)
    overrides: dict[str, Any] = parse_assignments(args.set)
    for flag, name in (("epochs", "epochs"), ("batch_size", "batch_size")):
        if getattr(args, flag) is not None:
            overrides[name] = getattr(args, flag)
    from pcsearch.params import missing_paper_values, resolve

    params = resolve(args.task, args.algorithm, overrides)  # bad input fails before JAX loads
    note = missing_paper_values(args.task, args.algorithm)
    if note:
        print(f"note: {note}", file=sys.stderr)
    from pcsearch.training import train

    bar = None if args.json or not sys.stderr.isatty() else EpochBar(params["epochs"])
    result = train(
        args.task,
        args.algorithm,
        overrides,
        seed=args.seed,
        data_dir=args.data_dir,
        on_epoch=None if bar is None else bar.update,
        energy_trace=args.energy_trace,
        synthetic=args.synthetic,
        max_batches=args.max_batches,
        epoch_loop=args.epoch_loop,
    )
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        if bar is not None:
            bar.close()
        print(summary(result))
    return 0


def summary(result) -> str:
    data = " on SYNTHETIC data (random inputs and labels: a timing run)" if result.synthetic else ""
    lines = [f"{result.task} / {result.algorithm}: {result.status}{data}"]
    if result.best_value is not None:
        last = "-" if result.value is None else f"{result.value:.4f}"
        lines.append(
            f"  test {result.metric}: {result.best_value:.4f} best (epoch {result.best_epoch}), "
            f"last {last}"
        )
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
    if result.energy_per_step:
        final = ", ".join(f"{e:.3g}" for e in result.energy_per_step[-1])
        lines.append(
            f"  energy per layer after {len(result.energy_per_step) - 1} inference steps "
            f"on the probe batch: {final}"
        )
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train one configuration")
    p.add_argument("--task", required=True, help="a task name (see `pcsearch tasks`)")
    p.add_argument("--algorithm", required=True, help="see `pcsearch algorithms`")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--seed", type=int, default=0)
    add_run_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_synthetic(p)
    add_max_batches(p)
    p.add_argument(
        "--energy-trace",
        action="store_true",
        help="record every layer's energy at every inference step on a probe batch after "
        "training (PC algorithms; the paper's Fig. 6b)",
    )
    p.add_argument(
        "--epoch-loop",
        choices=EPOCH_LOOP_CHOICES,
        default="auto",
        help=EPOCH_LOOP_HELP,
    )
    p.set_defaults(handler=run)
