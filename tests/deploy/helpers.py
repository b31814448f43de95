"""Reading deployment files without a Docker engine: Compose's variable interpolation,
Dockerfile instructions, and pcsearch command lines checked against the real parser."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^{}$]*))?\}")
"""``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:?error}``, ``${NAME?error}``,
``${NAME:+alt}``, ``${NAME+alt}`` (the Compose specification's forms, without nesting)."""


class MissingVariable(Exception):
    """A required variable (``${NAME:?message}``) is unset; the message Compose would show."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` (a parsed Compose document or part of it) with every variable replaced."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        unset_or_empty = not env.get(name) if op and op.startswith(":") else name not in env
        if op in (":-", "-"):
            return arg if unset_or_empty else env[name]
        if op in (":?", "?"):
            if unset_or_empty:
                raise MissingVariable(f"required variable {name} is missing a value: {arg}")
            return env[name]
        if op in (":+", "+"):
            return "" if unset_or_empty else arg
        return env.get(name, "")

    text = value.replace("$$", "\0")
    text = VARIABLE.sub(replace, text)
    assert "$" not in text, f"a variable form this reader does not know: {value!r}"
    return text.replace("\0", "$")


def variables(text: str) -> list[re.Match[str]]:
    return list(VARIABLE.finditer(text.replace("$$", "")))


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an env file; ``#NAME=value`` lines are documented options."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def documented(path: Path) -> set[str]:
    """Every variable an env file sets or shows commented out (``#NAME=...``)."""
    return set(re.findall(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=", path.read_text(), re.M))


def parse_pcsearch(argv: list[str]) -> argparse.Namespace:
    """``argv`` (``pcsearch ...``) parsed by pcsearch's own parser, or an AssertionError
    carrying argparse's message."""
    from pcsearch_cli.main import build_parser

    assert argv and argv[0] == "pcsearch", f"not a pcsearch command line: {argv}"
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(argv[1:])
    except SystemExit:
        raise AssertionError(f"{shlex.join(argv)!r} does not parse: {err.getvalue()}") from None


def command_argv(command: str | list[str]) -> list[str]:
    """A Compose ``command`` (string or list) as the argument vector Docker runs."""
    return shlex.split(command) if isinstance(command, str) else list(command)


@dataclass
class Instruction:
    keyword: str
    args: str


def dockerfile(path: Path) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split())))
        pending = ""
    assert not pending, f"{path} ends inside a continued line"
    return instructions


def exec_form(args: str) -> list[str]:
    """A JSON (exec) form such as ``["pcsearch", "worker"]``."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def run_command(args: str) -> str:
    """The shell command of a ``RUN`` instruction, without its ``--mount=``-style flags."""
    words = args.split(" ")
    while words and words[0].startswith("--"):
        words.pop(0)
    return " ".join(words)
