"""``pcsearch api``: refusals at start are one line (exit 2); several processes serve.

A refusal comes before anything is served, so it is checked in this process
(``run_main``); a start that is accepted runs uvicorn, so it is a real process."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import TOKENS, api_process
from tests.cli.conftest import RunCli

pytestmark = pytest.mark.timeout(120)
STRONG = "strong-test-token-5f1c9e27b04a8d36"  # fixed: test ids must be equal in every process (-n)
EXAMPLES = ("change-me", "CHANGE_ME")  # public values: naming them gives nothing away


def refused(run_main: RunCli, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``pcsearch api`` in this process, none of the machine's PCSEARCH_* set."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PCSEARCH_")}
    return run_main("api", *args, env=unset | env)


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
    run_main: RunCli, args: list[str], env: dict[str, str], message: str
) -> None:
    done = refused(run_main, *args, **env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcsearch api: error: "), done.stderr
    assert message in lines[0]


def start_on_taken_port(
    pcsearch_exe: str, tmp_path: Path, host: str, storage: str | None = None, **env: str
) -> subprocess.CompletedProcess:
    """``pcsearch api`` on a port already taken: past its checks it gets as far as uvicorn,
    which fails at once (so an accepted start ends in a second, without serving)."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        return start(
            pcsearch_exe, tmp_path,
            "--host", host, "--port", port, "--storage", storage or str(tmp_path / "s.journal"),
            **env,
        )  # fmt: skip


def assert_accepted(done: subprocess.CompletedProcess) -> None:
    assert "refusing" not in done.stderr, done.stderr
    assert "pcsearch api: serving" in done.stderr and "address already in use" in done.stderr


def test_strong_tokens_allow_any_host(pcsearch_exe: str, tmp_path: Path) -> None:
    tokens = f"{secrets.token_urlsafe(32)}, {secrets.token_hex(8)}"  # 43 and 16 characters
    assert_accepted(
        start_on_taken_port(pcsearch_exe, tmp_path, "0.0.0.0", PCSEARCH_API_TOKENS=tokens)
    )


@pytest.mark.parametrize(
    ("host", "tokens", "message"),
    [
        ("0.0.0.0", "change-me", "token 1 of 1 is the example value 'change-me' of .env.example"),
        ("0.0.0.0", "CHANGE_ME", "token 1 of 1 is the example value"),
        ("::", "Qz", "token 1 of 1 has 2 characters; at least 16 are needed"),
        ("10.1.2.3", f"{STRONG},fifteen-chars-1", "token 2 of 2 has 15 characters"),
        ("api.example.org", "token-one", "token 1 of 1 has 9 characters"),
    ],
)
def test_weak_tokens_are_refused_beyond_localhost(
    run_main: RunCli, tmp_path: Path, host: str, tokens: str, message: str
) -> None:
    done = refused(run_main, "--host", host, "--storage", "x.journal", PCSEARCH_API_TOKENS=tokens)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"pcsearch api: error: refusing to serve on --host {host} with a weak")
    assert message in line
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in line
    for token in set(tokens.split(",")) - set(EXAMPLES):
        assert token not in line, "a token is a secret: never printed"
    assert not (tmp_path / "x.journal").exists(), "a refused start leaves no storage behind"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost"])
def test_any_token_is_accepted_on_localhost(pcsearch_exe: str, tmp_path: Path, host: str) -> None:
    """Tests and laptops: the port cannot be reached from elsewhere."""
    assert_accepted(
        start_on_taken_port(pcsearch_exe, tmp_path, host, PCSEARCH_API_TOKENS="change-me")
    )


def test_the_example_database_password_is_refused_beyond_localhost(
    pcsearch_exe: str, run_main: RunCli, tmp_path: Path
) -> None:
    """Only the example value: the database's own exposure is not the API's bind (its
    password may be short, or absent with peer or trust authentication)."""
    example = "postgresql+psycopg2://pcsearch:change-me@127.0.0.1:1/pcsearch"
    done = refused(run_main, "--host", "0.0.0.0", "--storage", example, PCSEARCH_API_TOKENS=STRONG)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "the database password in the storage URL is the example value" in line
    assert "ALTER ROLE" in line and "secrets.token_urlsafe(32)" in line
    short = example.replace("change-me", "pw-11")
    accepted = start_on_taken_port(
        pcsearch_exe, tmp_path, "0.0.0.0", short, PCSEARCH_API_TOKENS=STRONG
    )
    assert_accepted(accepted)
    local = start_on_taken_port(
        pcsearch_exe, tmp_path, "127.0.0.1", example, PCSEARCH_API_TOKENS=STRONG
    )
    assert_accepted(local)


def test_local_hosts() -> None:
    from api.settings import is_local_host

    local = [
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "[::1]",
        "localhost",
        "LocalHost",
        "::ffff:127.0.0.1",
    ]
    public = ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "fe80::1", "api.example.org", ""]
    assert [h for h in local if not is_local_host(h)] == []
    assert [h for h in public if is_local_host(h)] == []


@pytest.mark.postgres
@pytest.mark.slow
def test_several_server_processes(postgres_url: str, tmp_path: Path) -> None:
    with api_process(postgres_url, tmp_path / "api.log", ",".join(TOKENS), "--workers", "2") as api:
        headers = {"Authorization": f"Bearer {TOKENS[0]}"}
        for _ in range(10):
            assert httpx.get(f"{api.url}/api/v1/studies", headers=headers).status_code == 200
        assert httpx.get(f"{api.url}/api/v1/studies").status_code == 401
    assert "with 2 process(es)" in api.output()
