"""Every mistake a user can make at the command line ends in one line that names what was
wrong and what to do, exit code 2, no traceback, and no password.

The commands run in this process (``run_main``): each stops before it starts anything. A
worker that gets as far as its storage is a real process (it makes its liveness file)."""

from __future__ import annotations

from pathlib import Path

import pytest

PASSWORD = "s3cret-pw"
SEARCH = ["search", "--task", "mlp-two-moons", "--algorithm", "pc-se", "--trials", "2"]


def check_one_line(result, *needles: str) -> str:
    err = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.stdout + result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--jobs", "-1"], ["--jobs -1", "at least 1"]),
        (["--jobs", "0"], ["--jobs 0", "at least 1"]),
        (["--epochs", "-1"], ["--epochs -1", "at least 1"]),
        (["--epochs", "0"], ["--epochs 0", "at least 1"]),
        (["--batch", "0"], ["--batch 0", "at least 1"]),
        (["--study", "a/b"], ["'a/b'", "letters, digits"]),
        (["--study", ".."], ["'..'", "no '..'"]),
        (["--study", "x..y"], ["'x..y'"]),
        (["--jobs", "two"], ["--jobs", "invalid int value: 'two'", "--help"]),
        (["--storage", "redis://host/0"], ["not supported", "postgresql+psycopg2://"]),
    ],
)
def test_search_refuses_bad_values_before_starting_workers(
    run_main, tmp_path: Path, args: list[str], needles: list[str]
) -> None:
    result = run_main(*SEARCH, "--storage", str(tmp_path / "s.journal"), *args)
    check_one_line(result, *needles)
    assert not (tmp_path / "pcsearch-logs").exists(), "workers were started"


def test_search_with_zero_trials(run_main, tmp_path: Path) -> None:
    args = [a if a != "2" else "0" for a in SEARCH]
    check_one_line(run_main(*args, "--storage", str(tmp_path / "s.journal")), "--trials 0")


def test_unwritable_journal_path(run_main, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_main(*SEARCH, "--storage", str(blocker / "s.journal"))
    check_one_line(result, "cannot write the journal file", "writable path")


def test_space_file_that_is_not_utf8(run_main, tmp_path: Path) -> None:
    space = tmp_path / "space.json"
    space.write_bytes(b'{"name": "caf\xe9"}')
    result = run_main(*SEARCH, "--storage", str(tmp_path / "s.journal"), "--space", str(space))
    check_one_line(result, "not UTF-8", "save it as UTF-8")


def test_bad_setting_in_the_environment(run_main, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PCSEARCH_HEARTBEAT_SECONDS", "soon")
    result = run_main("worker", "--storage", str(tmp_path / "s.journal"))
    check_one_line(result, "PCSEARCH_HEARTBEAT_SECONDS", "valid number")


def test_worker_without_storage(run_main, monkeypatch) -> None:
    monkeypatch.delenv("PCSEARCH_DATABASE_URL", raising=False)
    check_one_line(run_main("worker"), "no storage given", "PCSEARCH_DATABASE_URL")


def test_until_done_needs_a_study(run_main, tmp_path: Path) -> None:
    result = run_main("worker", "--storage", str(tmp_path / "s.journal"), "--until-done")
    check_one_line(result, "--until-done", "--study")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "needles"),
    [
        (f"postgresql+psycopg2://nobody:{PASSWORD}@127.0.0.1:5432/postgres", ['"nobody"']),
        (f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:5432/no_such_db", ["no_such_db"]),
        (f"postgresql+psycopg2://postgres:{PASSWORD}@no-such-host.invalid/db", ["no-such-host"]),
        (f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:1/db", ["127.0.0.1", "refused"]),
    ],
)
def test_wrong_database_credentials_or_host(
    run_cli, run_main, monkeypatch, postgres_url: str, url: str, needles: list[str]
) -> None:
    monkeypatch.setenv("PCSEARCH_CONNECT_TIMEOUT_SECONDS", "2")
    # A worker (a service) waits for a refused connection: tests/workers/test_connections.py
    runs = [] if "refused" in needles else [run_cli("worker", "--storage", url, timeout=60)]
    runs.append(run_main(*SEARCH, "--storage", url))
    for result in runs:
        err = check_one_line(result, "cannot open storage", "check the host", *needles)
        assert "***" in err or "postgres@" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["report", "--out", "r"],
        ["compare"],
        ["rerun", "--study", "moons"],
    ],
)
def test_reading_commands_refuse_a_journal_that_is_not_there(run_main, tmp_path: Path, command):
    result = run_main(*command, "--storage", "typo/s.journal")
    check_one_line(result, "no journal file at", "typo/s.journal")
    assert not (tmp_path / "typo").exists()  # a mistyped path is not created


def test_reading_commands_name_a_wrong_password(run_main, monkeypatch, postgres_url: str):
    monkeypatch.setenv("PCSEARCH_CONNECT_TIMEOUT_SECONDS", "2")
    url = f"postgresql+psycopg2://nobody:{PASSWORD}@127.0.0.1:5432/postgres"
    for command in (["report", "--out", "r"], ["compare"], ["rerun", "--study", "s"]):
        result = run_main(*command, "--storage", url)
        check_one_line(result, "cannot open storage", '"nobody"')
