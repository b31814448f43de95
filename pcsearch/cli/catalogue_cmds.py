"""``pcsearch tasks`` and ``pcsearch algorithms``: what exists, one line each."""

from __future__ import annotations

import argparse

from pcsearch.catalogue import ALGORITHMS, TASKS


def list_tasks(args: argparse.Namespace) -> int:
    width = max(map(len, TASKS))
    for name, task in TASKS.items():
        print(f"{name:<{width}}  {task.metric:<8}  {task.summary}")
    return 0


def list_algorithms(args: argparse.Namespace) -> int:
    width = max(map(len, ALGORITHMS))
    for name, algo in ALGORITHMS.items():
        note = "" if algo.implemented else "  (not implemented yet)"
        print(f"{name:<{width}}  {algo.family:<7}  {algo.summary}{note}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("tasks", help="list the tasks").set_defaults(handler=list_tasks)
    commands.add_parser("algorithms", help="list the algorithms").set_defaults(
        handler=list_algorithms
    )
