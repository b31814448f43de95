"""Argument parsing and dispatch. Strings from the command line are parsed here, once."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from pcsearch.errors import PCSearchError

USAGE_ERROR = 2
INTERNAL_ERROR = 1


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not usage plus error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``--set name=value`` pairs; types are checked later against the catalogue."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise PCSearchError(f"--set {pair!r} is not name=value; write e.g. --set state_lr=0.01")
        values[name.strip()] = value.strip()
    return values


SINGLE_COMMAND_MODULES = {"worker": "worker_cmd", "api": "api_cmd", "train": "train_cmd"}
"""Commands whose module registers them alone: ``pcsearch worker ...`` then imports just its
own module, so each process of a fleet starts without loading every other command's
dependencies (the data loaders, the views, the catalogue printers)."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or for ``command`` in ``SINGLE_COMMAND_MODULES`` just its own
    (the same parser for that command)."""
    parser = Parser(
        prog="pcsearch", description="Predictive coding networks and hyperparameter search."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command in SINGLE_COMMAND_MODULES:
        try:
            module = importlib.import_module(f"pcsearch_cli.{SINGLE_COMMAND_MODULES[command]}")
        except ImportError as error:  # e.g. no Optuna here: the full parser says what exists
            if (error.name or "").split(".")[0] in OUR_PACKAGES:
                raise
        else:
            module.register(commands)
            return parser
    from pcsearch_cli import catalogue_cmds, data_cmd, energy_cmd, ood_cmd, sample_cmd, train_cmd

    catalogue_cmds.register(commands)
    data_cmd.register(commands)
    train_cmd.register(commands)
    energy_cmd.register(commands)
    ood_cmd.register(commands)
    sample_cmd.register(commands)
    for module in _optional_commands():
        module.register(commands)
    return parser


OPTIONAL_COMMANDS = ("spaces_cmd", "search_cmd", "rerun_cmd", "report_cmd", "worker_cmd",
                     "dashboard_cmd", "api_cmd", "client_cmds")  # fmt: skip
"""Commands that need Optuna, SQLAlchemy or FastAPI; the core CLI works without them (as on
a bare GPU machine), and each one is left out alone when its packages are missing."""


OUR_PACKAGES = ("pcsearch", "search_spaces", "store", "workers", "api", "pcsearch_cli")


def _optional_commands() -> list:
    modules = []
    for name in OPTIONAL_COMMANDS:
        try:
            modules.append(importlib.import_module(f"pcsearch_cli.{name}"))
        except ImportError as error:
            if (error.name or "").split(".")[0] in OUR_PACKAGES:
                raise  # our own code is broken: say so rather than hide the command
    return modules


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(words)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except PCSearchError as error:
        print(f"pcsearch {args.command}: error: {_scrub(str(error))}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if _debug():
            raise
        text = _scrub(str(error).strip().splitlines()[0] if str(error).strip() else "")
        print(
            f"pcsearch {args.command}: internal error: {type(error).__name__}: {text} "
            f"(set PCSEARCH_DEBUG=1 to see the traceback, and please report it)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


def _debug() -> bool:
    """``PCSEARCH_DEBUG`` (store.settings). The core CLI runs without pydantic-settings (a bare
    GPU machine), and a bad value of another setting must not hide the error being reported:
    in both cases the variable is read as it is, any non-empty value meaning yes."""
    try:
        from store.settings import settings

        return settings().debug
    except (ImportError, PCSearchError):
        return bool(os.environ.get("PCSEARCH_DEBUG"))


def _scrub(text: str) -> str:
    """No password of a storage URL in any message (the core CLI runs without workers/)."""
    try:
        from store.storage import scrub
    except ImportError:
        return text
    return scrub(text)


if __name__ == "__main__":
    sys.exit(main())
