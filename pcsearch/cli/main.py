"""Argument parsing and dispatch. Strings from the command line are parsed here, once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pcsearch.errors import PCSearchError

USAGE_ERROR = 2


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``--set name=value`` pairs; types are checked later against the catalogue."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise PCSearchError(f"--set {pair!r} is not name=value; write e.g. --set state_lr=0.01")
        values[name.strip()] = value.strip()
    return values


def build_parser() -> argparse.ArgumentParser:
    from pcsearch.cli import catalogue_cmds, train_cmd

    parser = argparse.ArgumentParser(
        prog="pcsearch", description="Predictive coding networks and hyperparameter search."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    catalogue_cmds.register(commands)
    train_cmd.register(commands)
    for module in _optional_commands():
        module.register(commands)
    return parser


def _optional_commands() -> list:
    """Commands that need Optuna; the core CLI works without it."""
    try:
        from pcsearch.cli import search_cmd, spaces_cmd, worker_cmd
    except ImportError:
        return []
    return [spaces_cmd, search_cmd, worker_cmd]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except PCSearchError as error:
        print(f"pcsearch {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
