"""``pcsearch report`` and ``pcsearch compare``: finished studies as the paper shows them.

``report`` writes a Table-1-style table (Markdown and CSV), the figures of each search
study and an ``index.md`` into a folder; ``compare`` prints the measured cells beside the
paper's published numbers (``--compare`` adds that to a report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import optuna

from pcsearch.analysis import compare, comparison_markdown, load_paper_results, write_report
from store.report_data import ReportData, collect
from store.storage import DEFAULT_STORAGE, open_storage, storage_url


def _collect(args: argparse.Namespace) -> ReportData:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(args.storage, default=DEFAULT_STORAGE)
    storage = open_storage(url, must_exist=True)
    data = collect(storage, args.study or None)
    for line in data.skipped:
        print(f"left out: {line}", file=sys.stderr)
    return data


def run_report(args: argparse.Namespace) -> int:
    data = _collect(args)
    if not data.cells and not data.figures:
        print("nothing to report: no finished study", file=sys.stderr)
        return 1
    rows = compare(data.cells, load_paper_results(), args.tolerance) if args.compare else None
    written = write_report(Path(args.out), data.cells, data.figures, rows)
    print(f"wrote {len(written)} files to {args.out}; start with {written[-1]}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    data = _collect(args)
    if not data.cells:
        print("nothing to compare: no finished study", file=sys.stderr)
        return 1
    print(comparison_markdown(compare(data.cells, load_paper_results(), args.tolerance)))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", help=f"as for `pcsearch search` (default {DEFAULT_STORAGE})")
    p.add_argument("--study", action="append", help="a study to include (repeatable; default: all)")
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.3,
        help="largest difference from the paper still counted as a match, in the paper's "
        "unit (percentage points for accuracy; default 0.3)",
    )


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("report", help="tables and plots of finished studies, as the paper's")
    _common(p)
    p.add_argument("--out", required=True, help="folder to write the report into")
    p.add_argument("--compare", action="store_true", help="add the paper's numbers beside")
    p.set_defaults(handler=run_report)
    c = commands.add_parser("compare", help="measured results beside the paper's numbers")
    _common(c)
    c.set_defaults(handler=run_compare)
