"""deploy/Dockerfile.cpu and deploy/Dockerfile.cuda, read without a Docker engine; their
install steps are run for real outside a container, against a stand-in virtual environment.

The layout they keep: the runtime dependencies are installed from pyproject.toml alone,
before the source is copied (a source change rebuilds one small layer, not gigabytes of
wheels); then pcsearch itself with --no-deps; no dev extra; run as an unprivileged user."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.deploy.helpers import (
    REPO,
    Instruction,
    dockerfile,
    dockerignore_patterns,
    dockerignored,
    exec_form,
    parse_pcsearch,
    run_command,
)

IMAGES = {"cpu": [], "cuda": ["cuda"]}
"""Each image and the extras of pyproject.toml it installs (never dev)."""
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def path(image: str) -> Path:
    return REPO / "deploy" / f"Dockerfile.{image}"


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.keyword == keyword]


def at(instructions: list[Instruction], keyword: str, args: str) -> int:
    found = [n for n, i in enumerate(instructions) if i.keyword == keyword and i.args == args]
    assert len(found) == 1, f"{keyword} {args}: {len(found)} times"
    return found[0]


def install_steps(instructions: list[Instruction]) -> tuple[int, int]:
    """The positions of the two RUN steps that call pip install: the dependencies, then
    pcsearch."""
    steps = [
        n for n, i in enumerate(instructions) if i.keyword == "RUN" and "pip install" in i.args
    ]
    assert len(steps) == 2, [instructions[n].args for n in steps]
    return steps[0], steps[1]


@pytest.mark.parametrize("image", IMAGES)
def test_base_image_is_a_python_the_project_supports(image: str) -> None:
    froms = only(dockerfile(path(image)), "FROM")
    assert len(froms) == 1, froms
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim(-\w+)?", froms[0].args)
    assert match, froms[0].args
    wanted = PROJECT["requires-python"]
    assert wanted.startswith(">=")
    assert (int(match[1]), int(match[2])) >= tuple(int(p) for p in wanted[2:].split("."))


@pytest.mark.parametrize("image", IMAGES)
def test_dependencies_are_installed_before_the_source_is_copied(image: str) -> None:
    instructions = dockerfile(path(image))
    deps, source = install_steps(instructions)
    manifest = at(instructions, "COPY", "pyproject.toml /app/")
    everything = at(instructions, "COPY", ". /app")
    assert manifest < deps < everything < source, "pyproject.toml, deps, source, pcsearch"
    copies = [i.args for i in only(instructions, "COPY")]
    assert copies == ["pyproject.toml /app/", ". /app"], "nothing else reaches the deps layer"
    assert " -r " in instructions[deps].args
    assert "--no-deps" in instructions[source].args
    workdirs = [i.args for i in instructions[:manifest] if i.keyword == "WORKDIR"]
    assert workdirs[-1] == "/app"


@pytest.mark.parametrize("image", IMAGES)
def test_no_dev_extra_in_the_image(image: str) -> None:
    """Tests and linters stay out: no `[dev]`, no setup.sh (which installs it)."""
    for instruction in only(dockerfile(path(image)), "RUN"):
        assert "setup.sh" not in instruction.args
        assert not re.search(r"\bdev\b", instruction.args.replace("/dev/", "")), instruction


@pytest.mark.parametrize("image", IMAGES)
def test_installed_as_root_run_as_a_user(image: str) -> None:
    instructions = dockerfile(path(image))
    _, source = install_steps(instructions)
    users = only(instructions, "USER")
    assert users and users[-1].args.split(":")[0] not in ("root", "0"), users
    assert instructions.index(users[-1]) > source, "installed as root, run as the user"
    env = " ".join(i.args for i in only(instructions, "ENV"))
    assert re.search(r"PATH=/app/\.venv/bin:\$PATH", env), env


@pytest.mark.parametrize("image", IMAGES)
def test_default_command_is_a_worker(image: str) -> None:
    cmds = only(dockerfile(path(image)), "CMD")
    assert len(cmds) == 1
    argv = exec_form(cmds[0].args)
    assert argv == ["pcsearch", "worker"]
    assert parse_pcsearch(argv).command == "worker"


def test_cuda_image_explains_where_cuda_comes_from() -> None:
    text = path("cuda").read_text().lower()
    assert "container toolkit" in text and "wheels" in text


STAND_IN_PYTHON = """#!/bin/sh
# A virtual environment's python whose pip only records how it was called; anything
# else (the requirements one-liner) runs on the real interpreter.
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "$*" >> "$(dirname "$0")/../../calls.log"
  exit 0
fi
exec {python} "$@"
"""


def run_step(instruction: Instruction, cwd: Path) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", run_command(instruction.args)],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("image", IMAGES)
def test_the_install_steps_run_outside_a_container(image: str, tmp_path: Path) -> None:
    """The RUN lines as written, in a folder laid out as /app is at each step, with a
    .venv/bin/python whose pip only records its calls (the real install of the cuda extra
    downloads gigabytes): the dependencies step sees pyproject.toml only and asks pip for
    exactly the runtime dependencies (plus the image's extras); the source step installs
    pcsearch without them."""
    instructions = dockerfile(path(image))
    deps, source = install_steps(instructions)
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(STAND_IN_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")  # COPY pyproject.toml

    run_step(instructions[deps], tmp_path)
    calls = (tmp_path / "calls.log").read_text().splitlines()
    [requirements] = re.findall(r"-r (\S+)", calls[-1])
    assert calls == ["-m pip install -q --upgrade pip", f"-m pip install -q -r {requirements}"]
    listed = (tmp_path / requirements).read_text().split("\n")
    wanted = PROJECT["dependencies"] + [
        d for extra in IMAGES[image] for d in PROJECT["optional-dependencies"][extra]
    ]
    assert [line for line in listed if line] == wanted
    dev = {Requirement(r).name for r in PROJECT["optional-dependencies"]["dev"]}
    assert not dev & {Requirement(r).name for r in listed if r}, "a dev tool in the image"

    (tmp_path / "calls.log").unlink()
    run_step(instructions[source], tmp_path)  # after COPY . /app
    assert (tmp_path / "calls.log").read_text().splitlines() == ["-m pip install -q --no-deps ."]


# --- the build context ------------------------------------------------------------------------

DOCKERIGNORE = REPO / ".dockerignore"


@pytest.mark.parametrize(
    "relative",
    [
        ".env",
        ".env.local",
        ".git/config",
        ".venv/bin/python",
        "api/__pycache__/main.cpython-311.pyc",
        "deploy/postgres-tls/server.key",
        "certs/server.key",
        "server.pem",
        "tests/deploy/test_compose.py",
        "results/example-two-moons/index.md",
        ".hypothesis/examples/x",
        "pcsearch.journal",
        "docker-compose.yml",
        "docker-compose.worker.yml",
        "deploy/compose.postgres-public.yml",
    ],
)
def test_the_build_context_leaves_out(relative: str) -> None:
    """Secrets and key material, virtual environments, caches, and what no image runs
    (tests, results, Compose files: editing them would rebuild the source layer)."""
    assert dockerignored(relative, dockerignore_patterns(DOCKERIGNORE)), relative


def test_the_build_context_keeps_what_the_install_reads() -> None:
    """`pip install .` reads pyproject.toml and README.md (the project's readme) and
    installs the packages setuptools finds, with their data files."""
    patterns = dockerignore_patterns(DOCKERIGNORE)
    needed = ["pyproject.toml", "README.md", ".env.example"]
    for package in ("pcsearch", "search_spaces", "store", "workers", "api", "pcsearch_cli"):
        needed += [str(p.relative_to(REPO)) for p in (REPO / package).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts]  # fmt: skip
    kept_out = [p for p in needed if dockerignored(p, patterns)]
    assert not kept_out, kept_out


def test_the_dockerignore_reader_can_tell() -> None:
    """Root-anchored patterns, `**`, folders, and `!` putting a path back."""
    patterns = ["*.log", "**/*.key", "build", ".env.*", "!.env.example"]
    assert dockerignored("a.log", patterns) and not dockerignored("logs/a.log", patterns)
    assert dockerignored("a/b/c.key", patterns) and dockerignored("c.key", patterns)
    assert dockerignored("build/lib/x.py", patterns) and not dockerignored("builder.py", patterns)
    assert dockerignored(".env.prod", patterns) and not dockerignored(".env.example", patterns)
