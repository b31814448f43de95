"""No database password in anything the API answers, prints or logs.

Postgres trusts local connections here, so a URL with any password works; the test then
looks for that password in every response body and in the server's whole output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import TOKENS, api_process, closed_port_url, unique

pytestmark = pytest.mark.timeout(300)

PASSWORD = "s3cret-pw"
AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


def with_password(url: str, database: str | None = None) -> str:
    head, name = url.rsplit("/", 1)
    return head.replace("postgres@", f"postgres:{PASSWORD}@") + "/" + (database or name)


def exercise(base: str) -> list[str]:
    """Every kind of answer: success, 401, 404, 409, 413, 422 and (when down) 503."""
    name = unique("secret")
    body = {"name": name, "task": "mlp-digits", "algorithm": "pc-se", "n_trials": 2}
    calls = [
        ("GET", "/readyz", None, {}),
        ("GET", "/docs", None, {}),
        ("GET", "/openapi.json", None, {}),
        ("GET", "/api/v1/studies", None, AUTH),
        ("GET", "/api/v1/studies", None, {}),
        ("POST", "/api/v1/studies", body, AUTH),
        ("POST", "/api/v1/studies", body, AUTH),
        ("POST", "/api/v1/studies", body | {"epochs": 0, "space": "nope"}, AUTH),
        ("POST", "/api/v1/studies", {"task": "x" * 70_000}, AUTH),
        ("GET", f"/api/v1/studies/{name}", None, AUTH),
        ("GET", f"/api/v1/studies/{name}/trials", None, AUTH),
        ("POST", f"/api/v1/studies/{name}/stop", None, AUTH),
        ("DELETE", f"/api/v1/studies/{name}", None, AUTH),
        ("GET", "/api/v1/studies/ghost", None, AUTH),
    ]
    texts = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for method, path, json, headers in calls:
            response = client.request(method, path, json=json, headers=headers)
            assert response.status_code < 500 or response.status_code == 503, response.text
            texts.append(f"{response.status_code} {dict(response.headers)} {response.text}")
    return texts


@pytest.mark.postgres
@pytest.mark.slow
def test_no_password_in_responses_or_logs(postgres_url: str, tmp_path: Path) -> None:
    answers: list[str] = []
    logs: list[str] = []
    with api_process(with_password(postgres_url), tmp_path / "live.log") as live:
        answers += exercise(live.url)
        assert any(a.startswith("201 ") for a in answers)
    logs.append(live.output())
    for url in (closed_port_url(PASSWORD), with_password(postgres_url, "no_such_database")):
        with api_process(url, tmp_path / "dead.log", ",".join(TOKENS)) as dead:
            texts = exercise(dead.url)
            assert texts[0].startswith("503 "), texts[0]
            answers += texts
        logs.append(dead.output())
    startup = logs[0].splitlines()[0]
    assert startup.startswith("pcsearch api: serving postgresql+psycopg2://postgres:***@")
    for text in answers + logs:
        assert PASSWORD not in text


def test_refusal_to_start_shows_no_password() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCSEARCH_")}
    exe = str(Path(sys.executable).with_name("pcsearch"))
    for args in (
        ["--host", "0.0.0.0", "--storage", f"postgresql+psycopg2://u:{PASSWORD}@127.0.0.1/x"],
        ["--storage", "mongodb://postgres:" + PASSWORD + "@127.0.0.1/x"],
    ):
        done = subprocess.run(
            [exe, "api", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
        assert PASSWORD not in done.stderr
        assert done.stderr.startswith("pcsearch api: error: ")


def test_an_unexpected_error_is_a_json_500_logged_without_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from api.deps import StorageHolder
    from store import views
    from tests.api.helpers import serve, settings_for

    url = f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:5432/any"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"driver exploded while talking to {url}")

    monkeypatch.setattr(StorageHolder, "get", lambda self: object())
    monkeypatch.setattr(views, "list_studies", broken)
    with caplog.at_level("ERROR", logger="pcsearch.api"), serve(settings_for(url)) as base:
        response = httpx.get(f"{base}/api/v1/studies", headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the server log has the details"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "driver exploded" in logged and "RuntimeError" in logged
    assert PASSWORD not in logged and PASSWORD not in response.text
