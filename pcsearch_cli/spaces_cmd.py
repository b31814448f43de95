"""``pcsearch spaces``: the paper's search spaces, listed or shown as JSON."""

from __future__ import annotations

import argparse
import sys

from pcsearch.catalogue import TASKS
from pcsearch.errors import PCSearchError
from pcsearch.params import missing_paper_values
from search_spaces import get_space, list_spaces


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        if not args.name:
            raise PCSearchError(
                "give a space name to show, e.g. `pcsearch spaces show "
                "discriminative-pc`; `pcsearch spaces` lists them"
            )
        space = get_space(args.name)
        print(space.to_json())
        tasks = [t for t in TASKS if space.matches_task(t)]
        for task, algorithm in ((t, a) for t in tasks for a in space.algorithms):
            note = missing_paper_values(task, algorithm)
            if note:
                print(f"note: {note}", file=sys.stderr)
        return 0
    spaces = list_spaces()
    width = max(len(s.ref) for s in spaces)
    for s in spaces:
        print(f"{s.ref:<{width}}  {s.kind:<8}  {', '.join(s.algorithms):<24}  {s.source}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("spaces", help="list the search spaces, or show one as JSON")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("name", nargs="?", help="a space name (name or name@version)")
    p.set_defaults(handler=run)
