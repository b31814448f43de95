"""store.settings.Settings: every PCSEARCH_* variable once, in the class and in the README."""

from __future__ import annotations

import ast
import inspect
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from store.errors import StoreError
from store.settings import ENV_PREFIX, Settings, load_settings, settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch):
    """No PCSEARCH_* of the machine running the tests, and a fresh settings() each time."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    settings.cache_clear()
    yield
    settings.cache_clear()


def variables() -> list[str]:
    return [f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields]


def readme_variables(text: str) -> list[str]:
    """The variables named in the first column of the table under "### Settings"."""
    section = text.split("\n### Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])]


def test_the_readme_table_lists_every_setting_once() -> None:
    listed = readme_variables(README.read_text(encoding="utf-8"))
    twice = [name for name, count in Counter(listed).items() if count > 1]
    assert not twice, f"listed more than once in README.md: {twice}"
    assert set(listed) - set(variables()) == set(), "in README.md but not in Settings"
    assert set(variables()) - set(listed) == set(), "in Settings but not in README.md"


def test_the_readme_check_sees_a_missing_row() -> None:
    text = README.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `PCSEARCH_DEBUG`"))
    assert "PCSEARCH_DEBUG" not in readme_variables(text.replace(row + "\n", ""))


def test_every_field_has_a_docstring() -> None:
    """Each setting says what it is for, right under it (the class is the one list)."""
    body = ast.parse(inspect.getsource(Settings)).body[0].body
    documented = {
        node.target.id
        for node, after in zip(body, body[1:], strict=False)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
        and isinstance(after.value.value, str)
    }
    assert set(Settings.model_fields) - documented == set()


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCSEARCH_HEARTBEAT_SECONDS", "soon")
    monkeypatch.setenv("PCSEARCH_API_MAX_BODY_BYTES", "12")
    with pytest.raises(StoreError) as raised:
        settings()
    message = str(raised.value)
    assert len(message.splitlines()) == 1, message
    assert "PCSEARCH_HEARTBEAT_SECONDS: Input should be a valid number" in message
    assert "PCSEARCH_API_MAX_BODY_BYTES: Input should be greater than or equal to 1024" in message


def test_an_explicit_bad_value_names_its_variable() -> None:
    with pytest.raises(StoreError, match=r"PCSEARCH_API_WORKERS: Input should be less"):
        load_settings(api_workers=1000)


def test_the_grace_must_exceed_the_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCSEARCH_HEARTBEAT_SECONDS", "10")
    monkeypatch.setenv("PCSEARCH_HEARTBEAT_GRACE_SECONDS", "10")
    with pytest.raises(StoreError, match=r"^bad setting: PCSEARCH_HEARTBEAT_GRACE_SECONDS=10 must"):
        settings()


def test_overrides_go_on_top_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCSEARCH_DATABASE_URL", "from-env.journal")
    monkeypatch.setenv("PCSEARCH_API_WORKERS", "3")
    got = load_settings(database_url="given.journal")
    assert (got.database_url, got.api_workers) == ("given.journal", 3)


def test_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = settings()
    monkeypatch.setenv("PCSEARCH_API_WORKERS", "3")
    assert settings() is first and settings().api_workers == 1


def test_secrets_stay_out_of_reprs() -> None:
    shown = repr(load_settings(database_url="postgresql://u:pw-1@h/db", api_tokens="tok-2"))
    assert "pw-1" not in shown and "tok-2" not in shown


def test_the_client_default_is_the_settings_default() -> None:
    from pcsearch_cli.client_cmds import DEFAULT_API

    assert Settings.model_fields["api_url"].default == DEFAULT_API


def test_the_client_reads_its_url_and_token_from_settings(monkeypatch) -> None:
    from pcsearch_cli import client_cmds

    assert client_cmds.api_url(None) == client_cmds.DEFAULT_API
    assert client_cmds._configured("api_token", "PCSEARCH_API_TOKEN") == ""
    settings.cache_clear()
    monkeypatch.setenv("PCSEARCH_API_URL", "http://head:8000/")
    monkeypatch.setenv("PCSEARCH_API_TOKEN", "tok")
    assert client_cmds.api_url(None) == "http://head:8000"
    assert client_cmds._configured("api_token", "PCSEARCH_API_TOKEN") == "tok"


def test_a_bad_setting_does_not_let_the_database_password_through(monkeypatch) -> None:
    """scrub() runs while errors are reported, the bad-setting error among them."""
    from store.storage import scrub

    monkeypatch.setenv("PCSEARCH_DATABASE_URL", "postgresql+psycopg2://u:pw-3@h/db")
    monkeypatch.setenv("PCSEARCH_HEARTBEAT_SECONDS", "soon")
    assert scrub("connecting with pw-3 failed") == "connecting with *** failed"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, False),
        ({"PCSEARCH_DEBUG": "1"}, True),
        ({"PCSEARCH_DEBUG": "false"}, False),
        ({"PCSEARCH_DEBUG": "1", "PCSEARCH_DB_POOL_SIZE": "many"}, True),  # the raw variable
    ],
)
def test_debug(monkeypatch, environment: dict[str, str], expected: bool) -> None:
    from pcsearch_cli.main import _debug

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert _debug() is expected
