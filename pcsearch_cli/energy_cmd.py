"""``pcsearch energy-propagation``: the paper's Section 5 analysis in one command.

For each task (default Two Moons and Two Circles, as in Appendix D.1) it trains the
setting at every state learning rate and seed, then writes the energy imbalance
(first hidden layer over output) against the state learning rate, accuracy against the
state learning rate, the energies per inference step of the best run, a CSV of every
run and an index.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

from pcsearch.analysis import (
    energy_imbalance,
    plot_energy_imbalance,
    plot_energy_per_step,
    plot_metric_against,
)
from pcsearch.catalogue import task_info
from pcsearch.errors import PCSearchError
from pcsearch.params import resolve
from pcsearch_cli.main import parse_assignments
from pcsearch_cli.run_flags import add_run_flags

DEFAULT_TASKS = ("mlp-two-moons", "mlp-two-circles")


def _floats(text: str, flag: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise PCSearchError(f"{flag} {text!r} must be positive numbers separated by commas")
    return values


def run(args: argparse.Namespace) -> int:
    from pcsearch.training.energy_sweep import PAPER_STATE_LRS, SECTION_5, energy_sweep

    tasks = args.task or list(DEFAULT_TASKS)
    lrs = _floats(args.state_lrs, "--state-lrs") if args.state_lrs else list(PAPER_STATE_LRS)
    if args.seeds < 1:
        raise PCSearchError(f"--seeds {args.seeds} must be at least 1")
    overrides = parse_assignments(args.set)
    if args.epochs:
        overrides["epochs"] = args.epochs
    for task in tasks:  # bad input fails before any training
        task_info(task)
        resolve(task, args.algorithm, {**SECTION_5, **overrides})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    imbalance: dict[str, list[tuple[float, float]]] = {}
    files: list[tuple[str, str]] = []
    rows = []
    for task in tasks:
        print(f"{task}: {len(lrs)} state learning rates x {args.seeds} seeds", file=sys.stderr)
        runs = energy_sweep(
            task, args.algorithm, lrs, range(args.seeds), overrides, data_dir=args.data_dir
        )
        imbalance[task] = []
        for r in runs:
            ratio = energy_imbalance(r.energy_per_step[-1]) if r.energy_per_step else math.nan
            if math.isfinite(ratio) and ratio > 0:
                imbalance[task].append((r.state_lr, ratio))
            final = r.energy_per_step[-1] if r.energy_per_step else []
            rows.append([task, r.state_lr, r.seed, r.status, r.value, ratio, *final])
        metric = task_info(task).metric
        scored = [r for r in runs if r.value is not None]
        name = f"{task}-{metric}-vs-state-lr.png"
        plot_metric_against(
            out / name,
            [(r.state_lr, r.value) for r in scored],
            "state learning rate γ",
            f"best test {metric}",
            f"{task} / {args.algorithm}: test {metric} against γ (Fig. 6c)",
        )
        files.append((name, f"{task}: best test {metric} of each run against γ"))
        if scored:
            best = max(scored, key=lambda r: r.value)
            name = f"{task}-energy-per-step.png"
            plot_energy_per_step(
                out / name,
                best.energy_per_step,
                f"{task}: energy per layer over inference, best run (γ={best.state_lr:g})",
            )
            files.append((name, f"{task}: energy of each layer at each inference step, best run"))
    plot_energy_imbalance(
        out / "energy-imbalance.png",
        imbalance,
        f"Energy imbalance E_1 / E_L after T steps against γ ({args.algorithm})",
    )
    files.insert(0, ("energy-imbalance.png", "first hidden layer's energy over the output's"))
    with open(out / "energy-propagation.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["task", "state_lr", "seed", "status", "best_value", "imbalance"]
        layers = max(len(row) for row in rows) - len(header)
        header += [f"energy_layer_{i + 1}" for i in range(layers)]
        if layers:
            header[-1] = "energy_output"  # the energies after T steps, output last
        writer.writerow(header)
        writer.writerows(rows)
    files.append(("energy-propagation.csv", "every run: its best value, imbalance, energies"))
    index = ["# Energy propagation (the paper's Section 5)", ""]
    index += [f"- [{name}]({name}): {what}" for name, what in files]
    (out / "index.md").write_text("\n".join(index) + "\n")
    print(f"wrote {len(files) + 1} files to {out}; start with {out / 'index.md'}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "energy-propagation",
        help="energy imbalance across layers against the state learning rate (Section 5)",
    )
    p.add_argument("--out", required=True, help="folder to write the plots and CSV into")
    p.add_argument("--task", action="append", help="repeatable (default: two moons, circles)")
    p.add_argument("--algorithm", default="pc-ce", help="a PC algorithm (default pc-ce)")
    p.add_argument("--state-lrs", help="comma-separated (default Appendix D.1's 1e-3 ... 1)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per state learning rate")
    p.add_argument("--epochs", type=int, help="default 8, as Appendix D.1")
    add_run_flags(p, set_example="activation=tanh")
    p.set_defaults(handler=run)
