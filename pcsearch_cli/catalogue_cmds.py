"""``pcsearch tasks`` and ``pcsearch algorithms``: what exists, one line each.

``pcsearch tasks --markdown`` prints the table of tasks and algorithms that the README
shows (a test keeps the two equal).
"""

from __future__ import annotations

import argparse

from pcsearch.catalogue import ALGORITHMS, TASKS


def tasks_markdown() -> str:
    """Tasks as rows, algorithms as columns, like the paper's tables."""
    names = [n for n, a in ALGORITHMS.items() if a.implemented]
    header = ["task", "mode", "metric", *names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, task in TASKS.items():
        metric = f"{task.metric} ({'max' if task.direction == 'maximize' else 'min'})"
        marks = ["x" if a in task.algorithms else "" for a in names]
        lines.append("| " + " | ".join([f"`{name}`", task.mode, metric, *marks]) + " |")
    return "\n".join(lines)


def list_tasks(args: argparse.Namespace) -> int:
    if args.markdown:
        print(tasks_markdown())
        return 0
    width = max(map(len, TASKS))
    modes = max(len(t.mode) for t in TASKS.values())
    for name, task in TASKS.items():
        print(f"{name:<{width}}  {task.mode:<{modes}}  {task.metric:<8}  {task.summary}")
    return 0


def list_algorithms(args: argparse.Namespace) -> int:
    width = max(map(len, ALGORITHMS))
    for name, algo in ALGORITHMS.items():
        note = "" if algo.implemented else "  (not implemented yet)"
        print(f"{name:<{width}}  {algo.family:<7}  {algo.summary}{note}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("tasks", help="list the tasks, their modes, metrics and algorithms")
    p.add_argument(
        "--markdown", action="store_true", help="one table: tasks by algorithms (the README's)"
    )
    p.set_defaults(handler=list_tasks)
    commands.add_parser("algorithms", help="list the algorithms").set_defaults(
        handler=list_algorithms
    )
