"""``pcsearch data fetch`` and ``pcsearch data check``: data sets onto GPU nodes without internet.

Fetch on a machine with internet, copy the data folder to the node, check it there. Each
file gets one line saying what was found or done and, when something is wrong, the fix.
A name is a data set (``cifar10``) or a task (``vgg5-cifar10``: its data set); a data set
reached through several names (``mnist``, ``mnist-raw``, ``mlp-mnist``) is handled once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pcsearch.catalogue import TASKS
from pcsearch.data.datasets import DATA_DIR_ENV, DATASETS, default_data_dir
from pcsearch.data.fetch import BUNDLED, FileReport, data_files, fetch, verify
from pcsearch_cli.main import USAGE_ERROR

PROBLEM = 1
"""Exit status when a file is missing, damaged or could not be fetched."""

_LABELS = {
    "fetch": {"present": "already there", "downloaded": "downloaded", "failed": "failed"},
    "check": {"present": "ok", "missing": "missing", "corrupt": "corrupt"},
}


def dataset_names(names: Sequence[str]) -> list[str]:
    """The data set of each name (a data set, or a task's), in order and once each; every
    name must be known (``unknown_names`` finds those that are not)."""
    out: list[str] = []
    for name in names:
        dataset = name if name in DATASETS else TASKS[name].dataset
        if dataset not in out:
            out.append(dataset)
    return out


def unknown_names(names: Sequence[str]) -> list[str]:
    return [n for n in names if n not in DATASETS and n not in TASKS]


def run(args: argparse.Namespace) -> int:
    """Fetch or check every named data set; 0 when every file is usable, else 1."""
    action: str = args.action
    unknown = unknown_names(args.names)
    if unknown:
        print(
            f"pcsearch data {action}: error: unknown task or data set "
            f"{', '.join(map(repr, unknown))}; choose a data set ({', '.join(DATASETS)}) "
            f"or a task ({', '.join(TASKS)})",
            file=sys.stderr,
        )
        return USAGE_ERROR
    root = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    work: Callable[[str, Path], list[FileReport]] = fetch if action == "fetch" else verify
    print(f"data folder: {root}")
    folders: set[str] = set()
    bad: list[FileReport] = []
    count = 0
    for dataset in dataset_names(args.names):
        files = data_files(dataset)
        if files is None:
            print(f"{dataset}: {BUNDLED}")
            continue
        if files.folder in folders:
            continue
        folders.add(files.folder)
        for report in work(dataset, root):
            count += 1
            label = _LABELS[action][report.status]
            print(f"{label:<13}  {_shown(report.path, root)}  ({report.detail})")
            if not report.ok:
                bad.append(report)
    if bad:
        what = "could not be fetched" if action == "fetch" else "missing or damaged"
        paths = ", ".join(_shown(r.path, root) for r in bad)
        print(
            f"pcsearch data {action}: {len(bad)} of {count} files {what}: {paths}; "
            "see each line above for the fix",
            file=sys.stderr,
        )
        return PROBLEM
    if count:
        print(f"all {count} files usable")
    return 0


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "data",
        help="download data sets ahead of time, or check files copied onto a machine",
        description="Put data sets into the data folder where there is internet (fetch), "
        "then copy the folder to machines without it and check the copy there (check).",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, summary in (
        ("fetch", "download the files that are missing or damaged (md5-checked)"),
        ("check", "check that every file is there and matches its md5; downloads nothing"),
    ):
        a = actions.add_parser(action, help=summary, description=summary)
        a.add_argument(
            "names",
            nargs="+",
            metavar="TASK|DATASET",
            help="a data set (e.g. cifar10) or a task (e.g. vgg5-cifar10: its data set)",
        )
        a.add_argument(
            "--data-dir",
            help=f"folder holding <dataset>/ folders (default: ${DATA_DIR_ENV}, "
            "else ~/.cache/pcsearch/data)",
        )
        a.set_defaults(handler=run)
