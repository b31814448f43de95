"""``pcsearch api``: refusals at start are one line (exit 2); several processes serve."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import TOKENS, api_process

pytestmark = pytest.mark.timeout(120)


def start(pcsearch_exe: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PCSEARCH_")}
    return subprocess.run(
        [pcsearch_exe, "api", *args],
        cwd=cwd,
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--host", "0.0.0.0", "--storage", "x.journal"], {}, "without PCSEARCH_API_TOKENS"),
        ([], {}, "no storage given"),
        (["--storage", "x.journal", "--port", "70000"], {}, "--port 70000 is not a port"),
        (["--storage", "x.journal", "--workers", "0"], {}, "--workers 0 must be at least 1"),
        (["--storage", "redis://host/0"], {}, "not supported"),
        (["--storage", "x.txt"], {}, "neither a URL nor a .journal file"),
        (
            ["--storage", "x.journal"],
            {"PCSEARCH_API_MAX_BODY_BYTES": "12"},
            "PCSEARCH_API_MAX_BODY_BYTES",
        ),
    ],
)
def test_refusals_are_one_line(
    pcsearch_exe: str, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = start(pcsearch_exe, tmp_path, *args, **env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcsearch api: error: "), done.stderr
    assert message in lines[0]


def test_tokens_allow_any_host(pcsearch_exe: str, tmp_path: Path) -> None:
    """With tokens the bind check passes: the command gets as far as uvicorn (which then
    fails on the port we hand it, already taken)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = start(
            pcsearch_exe, tmp_path,
            "--host", "0.0.0.0", "--port", port, "--storage", str(tmp_path / "s.journal"),
            PCSEARCH_API_TOKENS="t",
        )  # fmt: skip
    assert "refusing" not in done.stderr
    assert "pcsearch api: serving" in done.stderr and "address already in use" in done.stderr


@pytest.mark.postgres
@pytest.mark.slow
def test_several_server_processes(postgres_url: str, tmp_path: Path) -> None:
    with api_process(postgres_url, tmp_path / "api.log", ",".join(TOKENS), "--workers", "2") as api:
        headers = {"Authorization": f"Bearer {TOKENS[0]}"}
        for _ in range(10):
            assert httpx.get(f"{api.url}/api/v1/studies", headers=headers).status_code == 200
        assert httpx.get(f"{api.url}/api/v1/studies").status_code == 401
    assert "with 2 process(es)" in api.output()
