"""Tokens, public reads, the localhost development mode, and request size limits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import TOKENS, Api, serve, settings_for, unique

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

BODY = {"task": "mlp-digits", "algorithm": "pc-se", "n_trials": 2}
READS = ["/api/v1/studies", "/api/v1/tasks", "/api/v1/algorithms", "/api/v1/spaces"]
PUBLIC = ["/healthz", "/readyz", "/docs", "/openapi.json"]


def test_mutation_without_token_is_401_with_challenge(anonymous: httpx.Client) -> None:
    name = unique("noauth")
    response = anonymous.post("/api/v1/studies", json=BODY | {"name": name})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]
    for method, suffix in (("POST", "/stop"), ("POST", "/resume"), ("DELETE", "")):
        assert anonymous.request(method, f"/api/v1/studies/{name}{suffix}").status_code == 401


@pytest.mark.parametrize("path", READS)
def test_reads_need_a_token_by_default(anonymous: httpx.Client, path: str) -> None:
    assert anonymous.get(path).status_code == 401


@pytest.mark.parametrize("path", PUBLIC)
def test_health_and_docs_are_always_public(anonymous: httpx.Client, path: str) -> None:
    assert anonymous.get(path).status_code == 200


def test_wrong_token_is_401_and_every_configured_token_works(api: Api) -> None:
    with api.client(token="token-three") as wrong:
        response = wrong.get("/api/v1/studies")
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]
    for token in TOKENS:
        with api.client(token=token) as right:
            assert right.get("/api/v1/studies").status_code == 200


def test_a_malformed_authorization_header_is_401(api: Api) -> None:
    response = httpx.get(f"{api.url}/api/v1/studies", headers={"Authorization": "Basic Zm9v"})
    assert response.status_code == 401


@pytest.fixture(scope="module")
def public_read(postgres_url: str) -> Iterator[str]:
    with serve(settings_for(postgres_url, api_public_read=True)) as url:
        yield url


def test_public_read_opens_reads_only(public_read: str) -> None:
    for path in READS:
        assert httpx.get(public_read + path).status_code == 200, path
    response = httpx.post(f"{public_read}/api/v1/studies", json=BODY)
    assert response.status_code == 401


def test_without_tokens_nothing_needs_auth(postgres_url: str) -> None:
    """The localhost development mode (pcsearch api refuses other hosts without tokens)."""
    with serve(settings_for(postgres_url, api_tokens="")) as url:
        assert httpx.get(f"{url}/api/v1/studies").status_code == 200
        name = unique("devmode")
        created = httpx.post(f"{url}/api/v1/studies", json=BODY | {"name": name})
        assert created.status_code == 201, created.text


# --- body size ------------------------------------------------------------------------------

LIMIT = 64 * 1024


def test_body_over_the_limit_is_413_by_content_length(client: httpx.Client) -> None:
    body = b'{"task": "' + b"x" * LIMIT + b'"}'
    response = client.post(
        "/api/v1/studies", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert f"larger than {LIMIT} bytes" in response.json()["detail"]


def test_body_over_the_limit_is_413_while_streaming(client: httpx.Client) -> None:
    """A chunked body declares no length: it is counted as it arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"task": "'
        for _ in range(40):
            yield b"x" * 4096
        yield b'"}'

    response = client.post(
        "/api/v1/studies", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_body_under_the_limit_reaches_validation(client: httpx.Client) -> None:
    body = BODY | {"name": "x" * 1000}
    response = client.post("/api/v1/studies", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_invalid_json_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/studies", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"][0]["msg"]
