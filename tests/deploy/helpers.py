"""Reading deployment files without a Docker engine: Compose's variable interpolation,
Dockerfile instructions, and pcsearch command lines checked against the real parser."""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import io
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
"""The head node: Postgres, the API, the dashboard, its worker."""
COMPOSE_WORKER = REPO / "docker-compose.worker.yml"
"""An extra GPU machine: its worker only."""
COMPOSE_POSTGRES_PUBLIC = REPO / "deploy" / "compose.postgres-public.yml"
"""Laid over COMPOSE: Postgres published, with TLS."""
ENV_EXAMPLE = REPO / ".env.example"

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


def configured_env(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """An env file with every commented-out option (``#NAME=value``) turned on: the
    values it suggests, as a machine that sets all of them would have."""
    found = dict(re.findall(r"^#\s*([A-Za-z_][A-Za-z0-9_]*)=(\S*)$", path.read_text(), re.M))
    return found | env_file(path)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def compose_schema() -> dict:
    """The Compose specification's JSON schema, as check-jsonschema ships it (offline)."""
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


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


# --- several Compose files --------------------------------------------------------------------

REPLACED = {"command", "entrypoint"}
"""Service keys a later file replaces whole (Compose merges other sequences)."""


def merge(base: Any, override: Any, path: tuple[str, ...] = ()) -> Any:
    """``override`` laid over ``base`` as ``docker compose -f base -f override`` does (the
    Compose specification's merge rules, for the keys these files use): mappings merge key
    by key; ``command``, ``entrypoint`` and ``healthcheck.test`` are replaced; a service's
    ``volumes`` merge by container path (the later file's mount wins); other sequences
    (``ports``, ...) are appended, without repeats; ``environment`` lists count as mappings."""
    if path[-1:] == ("environment",):
        base, override = as_mapping(base), as_mapping(override)
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value, (*path, key)) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        if path[-1] in REPLACED or path[-2:] == ("healthcheck", "test"):
            return override
        if len(path) == 3 and path[0] == "services" and path[2] == "volumes":
            targets = {mount_target(v) for v in override}
            return [v for v in base if mount_target(v) not in targets] + override
        return base + [v for v in override if v not in base]
    return override


def as_mapping(environment: Any) -> Any:
    """An ``environment`` given as ``["NAME=value", ...]`` as a mapping."""
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return environment


def mount_target(volume: str | dict) -> str:
    """The container path of a short (``SOURCE:TARGET[:MODE]``) or long volume entry."""
    if isinstance(volume, dict):
        return volume["target"]
    parts = volume.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def mounts(service: dict) -> dict[str, str]:
    """A service's volumes as ``{container path: source}``."""
    return {mount_target(v): v.split(":")[0] for v in service.get("volumes", [])}


# --- .dockerignore ----------------------------------------------------------------------------


def dockerignore_patterns(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``), anchored at the context's
    root; it also matches everything under a folder it matches."""
    out, i = "", 0
    pattern = pattern.strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``relative`` (a path in the build context) out: the last
    pattern that matches decides, ``!pattern`` puts a path back."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _pattern_regex(pattern.lstrip("!")).fullmatch(relative):
            ignored = not negated
    return ignored
