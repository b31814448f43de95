"""The flags every command that trains shares (``--set``, ``--data-dir``, ``--synthetic``,
``--max-batches``), declared once so their names, types and help agree across commands."""

from __future__ import annotations

import argparse

DATA_DIR_HELP = (
    "folder holding <dataset>/ files (default: $PCSEARCH_DATA_DIR or ~/.cache/pcsearch/data)"
)


def add_set(p: argparse.ArgumentParser, example: str = "state_lr=0.02") -> None:
    """``--set NAME=VALUE`` (repeatable), parsed later by ``pcsearch_cli.main``."""
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"override a hyperparameter, e.g. --set {example} (repeatable)",
    )


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help=DATA_DIR_HELP)


def add_synthetic(p: argparse.ArgumentParser, what: str = "timing, smoke runs") -> None:
    p.add_argument(
        "--synthetic",
        action="store_true",
        help=f"random data with the task's shapes instead of the dataset ({what})",
    )


def add_max_batches(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-batches", type=int, help="cut every epoch (and the test set) to N batches"
    )


def add_run_flags(
    p: argparse.ArgumentParser,
    *,
    set_example: str = "state_lr=0.02",
    synthetic: bool = False,
    max_batches: bool = False,
) -> None:
    """``--set`` and ``--data-dir``, and where the command takes them ``--synthetic`` and
    ``--max-batches``."""
    add_set(p, set_example)
    add_data_dir(p)
    if synthetic:
        add_synthetic(p)
    if max_batches:
        add_max_batches(p)
