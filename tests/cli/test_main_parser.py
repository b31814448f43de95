"""``pcsearch worker`` (and api, train) builds only its own command's parser: the same
options as in the full parser, without importing every other command."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from pcsearch_cli.main import SINGLE_COMMAND_MODULES, build_parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices[command]


def _options(parser: argparse.ArgumentParser) -> list[tuple]:
    return [(tuple(a.option_strings), a.dest, a.default, a.choices) for a in parser._actions]


@pytest.mark.parametrize("command", sorted(SINGLE_COMMAND_MODULES))
def test_a_single_commands_parser_is_the_full_parsers(command: str) -> None:
    alone = build_parser(command)
    assert _options(_subparser(alone, command)) == _options(_subparser(build_parser(), command))
    (action,) = [a for a in alone._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(action.choices) == [command]


def test_a_worker_starts_without_the_other_commands_modules() -> None:
    probe = (
        "import sys; from pcsearch_cli.main import build_parser; build_parser({!r}); "
        "print(sorted(m for m in sys.modules if m.startswith('pcsearch_cli.')))"
    )
    alone = subprocess.run(
        [sys.executable, "-c", probe.format("worker")], capture_output=True, text=True, check=True
    ).stdout
    full = subprocess.run(
        [sys.executable, "-c", probe.format(None)], capture_output=True, text=True, check=True
    ).stdout
    assert "pcsearch_cli.worker_cmd" in alone and "pcsearch_cli.data_cmd" not in alone
    assert "pcsearch_cli.data_cmd" in full and "pcsearch_cli.worker_cmd" in full
