"""deploy/Dockerfile.cpu and deploy/Dockerfile.cuda, read without a Docker engine; their
install step is run for real outside a container, against a stand-in virtual environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.helpers import (
    REPO,
    Instruction,
    dockerfile,
    exec_form,
    parse_pcsearch,
    run_command,
)

IMAGES = {"cpu": "", "cuda": "cuda"}
"""Each image and the extras, beyond dev, that its install adds."""


def path(image: str) -> Path:
    return REPO / "deploy" / f"Dockerfile.{image}"


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.keyword == keyword]


def setup_step(instructions: list[Instruction]) -> tuple[int, Instruction]:
    steps = [(n, i) for n, i in enumerate(instructions) if "scripts/setup.sh" in i.args]
    assert len(steps) == 1 and steps[0][1].keyword == "RUN", steps
    return steps[0]


@pytest.mark.parametrize("image", IMAGES)
def test_base_image_is_a_python_the_project_supports(image: str) -> None:
    froms = only(dockerfile(path(image)), "FROM")
    assert len(froms) == 1, froms
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim(-\w+)?", froms[0].args)
    assert match, froms[0].args
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert wanted.startswith(">=")
    assert (int(match[1]), int(match[2])) >= tuple(int(p) for p in wanted[2:].split("."))


@pytest.mark.parametrize("image", IMAGES)
def test_installs_like_the_readme_and_runs_as_a_user(image: str) -> None:
    instructions = dockerfile(path(image))
    at, step = setup_step(instructions)
    copies = [n for n, i in enumerate(instructions) if i.keyword == "COPY" and i.args == ". /app"]
    assert copies and copies[0] < at, "the source is copied before the install"
    workdirs = [i.args for i in instructions[:at] if i.keyword == "WORKDIR"]
    assert workdirs[-1] == "/app"
    users = only(instructions, "USER")
    assert users and users[-1].args.split(":")[0] not in ("root", "0"), users
    assert instructions.index(users[-1]) > at, "installed as root, run as the user"
    env = " ".join(i.args for i in only(instructions, "ENV"))
    assert re.search(r"PATH=/app/\.venv/bin:\$PATH", env), env
    command = run_command(step.args)
    if IMAGES[image]:
        assert f"PCSEARCH_EXTRAS={IMAGES[image]}" in command
    else:
        assert "PCSEARCH_EXTRAS" not in command


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


FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../../calls.log"
"""


@pytest.mark.parametrize("image", IMAGES)
def test_the_install_step_runs_outside_a_container(image: str, tmp_path: Path) -> None:
    """The RUN line as written, in a copy of the repository's install files whose
    .venv/bin/python only records how pip was called (the real install of the dev extra
    is what CI's own setup does; the cuda one downloads gigabytes)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    _, step = setup_step(dockerfile(path(image)))
    env = {k: v for k, v in os.environ.items() if k != "PCSEARCH_EXTRAS"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", run_command(step.args)],
        cwd=tmp_path,
        env=env | {"PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    extras = ",".join(filter(None, ["dev", IMAGES[image]]))
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls == ["-m pip install -q --upgrade pip", f"-m pip install -q -e .[{extras}]"]
