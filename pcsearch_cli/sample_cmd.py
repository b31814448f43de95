"""``pcsearch sample``: train an MCPC task and show its samples against the data (Fig. 4).

It trains the task with MCPC on its defaults (the paper's values; ``pcsearch train --task
mcpc-iris --algorithm mcpc`` is the same run), keeps the samples that the last epoch's
evaluation scored, and writes into ``--out``: ``samples.npz`` (the samples, the test
points they were scored against, the training examples), a figure (2-d data such as iris:
the samples' density and the samples against the flowers, Fig. 4 left; images such as
MNIST: an 8 x 8 grid of samples with the scores above, Fig. 4 right, and one of test
digits), ``run.json`` (the run's record, every epoch's scores) and an ``index.md`` that
names every file and the scores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from pcsearch.catalogue import TASKS, task_info
from pcsearch.catalogue.modes import MODE_ALGORITHMS
from pcsearch.errors import PCSearchError
from pcsearch_cli.main import parse_assignments
from pcsearch_cli.progress import EpochBar
from pcsearch_cli.run_flags import add_run_flags, add_synthetic

SAMPLING_MODES = tuple(mode for mode, algorithms in MODE_ALGORITHMS.items() if "mcpc" in algorithms)
"""The modes whose tasks train with MCPC, the one algorithm that samples."""
FEATURE_NAMES = {"iris": ("sepal length (standardised)", "petal length (standardised)")}
"""Axis names of 2-d data sets (pcsearch.data.iris keeps these two features)."""
PAPER_DIGIT_SCORES = "FID 2.53 ± 0.17, IS 7.13 ± 0.10 (Section 4.2)"
SCORE_NAMES = {
    "mmd": "MMD to the test points (lower is better)",
    "fid_ours": "FID, pcsearch's MNIST classifier's features (lower is better)",
    "inception_score_ours": "inception score, pcsearch's MNIST classifier (higher is better)",
    "inception_score_ours_std": "its standard deviation over 10 parts of the samples",
}


def sampling_tasks() -> list[str]:
    return sorted(name for name, task in TASKS.items() if task.mode in SAMPLING_MODES)


def _command_line(args: argparse.Namespace) -> str:
    words = ["pcsearch", "sample", "--task", args.task, "--seed", str(args.seed)]
    for flag, value in (("--epochs", args.epochs), ("--max-batches", args.max_batches)):
        if value is not None:
            words += [flag, str(value)]
    words += [f"--set {pair}" for pair in args.set]
    words += ["--synthetic"] if args.synthetic else []
    return " ".join([*words, "--out", str(args.out)])


def run(args: argparse.Namespace) -> int:
    task = task_info(args.task)
    if task.mode not in SAMPLING_MODES:
        raise PCSearchError(
            f"--task {args.task} is a {task.mode} task, not a sampling one; choose one of: "
            f"{', '.join(sampling_tasks())}"
        )
    for flag, value in (("--epochs", args.epochs), ("--max-batches", args.max_batches)):
        if value is not None and value < 1:
            raise PCSearchError(f"{flag} {value} must be at least 1")
    overrides: dict[str, Any] = parse_assignments(args.set)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    from pcsearch.params import resolve

    params = resolve(args.task, "mcpc", overrides)  # bad input fails before JAX loads
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PCSearchError(
            f"--out {args.out}: cannot create that folder ({err.strerror}); give a writable one"
        ) from err
    from pcsearch.training.sample_run import train_and_sample

    print(f"{args.task}: training {params['epochs']} epochs with mcpc", file=sys.stderr)
    bar = EpochBar(params["epochs"]) if sys.stderr.isatty() else None
    start = time.perf_counter()
    drawn = train_and_sample(
        args.task,
        overrides,
        seed=args.seed,
        data_dir=args.data_dir,
        synthetic=args.synthetic,
        max_batches=args.max_batches,
        on_epoch=None if bar is None else bar.update,
    )
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    files = write_sample_files(out, args, drawn, seconds)
    print(f"wrote {len(files)} files to {out}; start with {out / 'index.md'}")
    for name, value in drawn.scores.items():
        print(f"  {name}: {value:.4g}")
    return 0


def write_sample_files(
    out: Path, args: argparse.Namespace, drawn: Any, seconds: float
) -> list[tuple[str, str]]:
    """samples.npz, the figure(s), run.json and index.md; the (file, what) pairs written."""
    import numpy as np

    from pcsearch.analysis.sample_plots import plot_image_grid, plot_samples_against_data

    result, scores = drawn.result, drawn.scores
    task = task_info(args.task)
    np.savez_compressed(
        out / "samples.npz", samples=drawn.samples, data=drawn.test, train=drawn.train
    )
    files = [
        (
            "samples.npz",
            f"`samples` {list(drawn.samples.shape)}: what the last epoch's evaluation scored; "
            f"`data` {list(drawn.test.shape)}: the test points they are scored against; "
            f"`train` {list(drawn.train.shape)}: distinct training examples",
        )
    ]
    synthetic = " (SYNTHETIC data)" if result.synthetic else ""
    headline = _headline(scores)
    if len(drawn.data_shape) == 1 and drawn.data_shape[0] == 2:
        plot_samples_against_data(
            out / "samples-vs-data.png",
            drawn.samples,
            [("training", drawn.train), ("held out (scored against)", drawn.test)],
            f"{args.task}{synthetic}: {drawn.samples.shape[0]} MCPC samples against the "
            f"data (Fig. 4 left); {headline}",
            FEATURE_NAMES.get(task.dataset, ("feature 1", "feature 2")),
        )
        what = "the samples' density (contours), the samples (dots), the data (crosses)"
        files.append(("samples-vs-data.png", what))
    else:
        plot_image_grid(
            out / "samples-grid.png",
            drawn.samples,
            f"{args.task}{synthetic}: MCPC samples (Fig. 4 right); {headline}",
        )
        plot_image_grid(out / "data-grid.png", drawn.test, f"{args.task}: test images")
        files.append(("samples-grid.png", "the first 64 samples, scores above"))
        files.append(("data-grid.png", "the first 64 test images, for comparison"))
    (out / "run.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    files.append(("run.json", "the run's record: parameters, every epoch's scores and time"))
    (out / "index.md").write_text(index_text(args, drawn, seconds, files))
    return [*files, ("index.md", "")]


def _headline(scores: dict[str, float]) -> str:
    """``MMD 0.095`` or ``MMD 0.7, fid_ours 727, IS_ours 1.36 ± 0.03`` for a figure's title."""
    parts = [f"MMD {scores['mmd']:.3g}"] if "mmd" in scores else []
    if "fid_ours" in scores:
        parts.append(f"fid_ours {scores['fid_ours']:.3g}")
    if "inception_score_ours" in scores:
        spread = scores.get("inception_score_ours_std", 0.0)
        parts.append(f"IS_ours {scores['inception_score_ours']:.3g} ± {spread:.2g}")
    return ", ".join(parts)


def index_text(
    args: argparse.Namespace, drawn: Any, seconds: float, files: list[tuple[str, str]]
) -> str:
    result, scores = drawn.result, drawn.scores
    task = task_info(args.task)
    epochs = len(result.history)
    lines = [f"# MCPC samples: {args.task}", ""]
    if result.synthetic:
        lines += ["**SYNTHETIC data** (random inputs of the task's shapes): a smoke run.", ""]
    lines += [
        f"`{_command_line(args)}`",
        "",
        f"{task.summary}.",
        "",
        f"{result.status}: {epochs} epochs of {result.params['epochs']}, seed {result.seed}, "
        f"{seconds / 60:.1f} min on this machine. Samples: {drawn.samples.shape[0]} chains "
        f"of T_sample = {result.params['T_sample']} noisy steps, the data layer's "
        f"{result.params['sample_from']}.",
        "",
    ]
    default = task.defaults.get("epochs")
    if default is not None and result.params["epochs"] < default:
        lines += [
            f"**Shorter than the task's protocol**: {result.params['epochs']} of its {default} "
            "epochs (`--epochs`).",
            "",
        ]
    lines += [
        "## Scores of these samples",
        "",
        *(f"- {SCORE_NAMES.get(k, k)}: **{v:.4g}**" for k, v in scores.items()),
    ]
    if "fid_ours" in scores:
        lines += [
            "",
            "FID and IS come from pcsearch's own MNIST classifier "
            "(`pcsearch.training.mnist_classifier`), not the paper's MNIST ResNet-18: "
            f"comparable in kind, not in value, to the paper's {PAPER_DIGIT_SCORES}.",
        ]
    best = "-" if result.best_value is None else f"{result.best_value:.4g}"
    lines += [
        "",
        f"Best epoch's {result.metric}: {best} (epoch {result.best_epoch}); each epoch's "
        "evaluation draws new samples, so the last epoch's (above) scatters around it.",
        "",
        "## Files",
        "",
        *(f"- [{name}]({name}): {what}" for name, what in files),
        "",
        f"## {result.metric} by epoch",
        "",
        "| epoch | " + result.metric + " | seconds |",
        "|---:|---:|---:|",
        *(
            f"| {h.epoch} | {'-' if h.value is None else f'{h.value:.4g}'} | {h.seconds:.1f} |"
            for h in result.history
        ),
    ]
    return "\n".join(lines) + "\n"


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "sample",
        help="train an MCPC task and plot its samples against the data (the paper's Fig. 4)",
    )
    p.add_argument("--task", required=True, help="mcpc-iris, mcpc-mnist or mcpc-mnist-conditional")
    p.add_argument("--out", required=True, help="folder to write the samples and figures into")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="default: the task's (mcpc-iris 68, mnist 100)")
    add_run_flags(p, set_example="T_sample=1000", max_batches=True)
    add_synthetic(p, what="smoke runs")
    p.set_defaults(handler=run)
