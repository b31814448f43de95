"""Health and readiness, a dead database, the offline /docs page, the catalogue routes, a
journal-file storage, and the promise that the API never imports JAX."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import closed_port_url, serve, settings_for

pytestmark = pytest.mark.timeout(120)


@pytest.mark.postgres
def test_healthz_and_readyz_on_a_live_database(anonymous: httpx.Client) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["schema_version"] >= 12


def test_unreachable_database_is_503_with_a_reason_and_no_password() -> None:
    url = closed_port_url(password="s3cret-pw")
    with serve(settings_for(url, api_storage_deadline_seconds=2)) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
        started = time.monotonic()
        ready = httpx.get(f"{base}/readyz", timeout=30)
        studies = httpx.get(
            f"{base}/api/v1/studies", headers={"Authorization": "Bearer token-one"}, timeout=30
        )
        elapsed = time.monotonic() - started
    assert ready.status_code == 503 and studies.status_code == 503
    assert "the database cannot be used" in ready.json()["detail"]
    assert "Connection refused" in ready.json()["detail"]
    assert ready.headers["retry-after"] == "5"
    for response in (ready, studies):
        assert "s3cret-pw" not in response.text
    assert elapsed < 15


@pytest.mark.postgres
def test_database_lost_after_start_is_503_within_the_deadline(postgres_url: str) -> None:
    """A database that goes away under a running API: requests end, bounded, as 503."""
    import psycopg2

    from tests.conftest import POSTGRES

    admin = psycopg2.connect(dbname="postgres", **POSTGRES)
    admin.autocommit = True
    name = f"pcsearch_gone_{int(time.time() * 1000)}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with serve(settings_for(url, api_storage_deadline_seconds=2, api_tokens="")) as base:
            assert httpx.get(f"{base}/readyz").status_code == 200
            assert httpx.get(f"{base}/api/v1/studies").status_code == 200
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            started = time.monotonic()
            response = httpx.get(f"{base}/api/v1/studies", timeout=30)
            assert time.monotonic() - started < 10
            assert response.status_code == 503, response.text
            assert httpx.get(f"{base}/readyz", timeout=30).status_code == 503
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_docs_page_uses_only_local_assets(anonymous: httpx.Client) -> None:
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assert "<title>pcsearch API</title>" in page.text
    assert not re.search(r"https?://", page.text), "the docs page must not need the internet"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3
    kinds = set()
    for asset in assets:
        response = anonymous.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100
        kinds.add(response.headers["content-type"].split(";")[0])
    assert kinds == {"text/css", "image/png", "text/javascript"}
    assert "'/openapi.json'" in page.text


@pytest.mark.postgres
def test_openapi_documents_every_route(anonymous: httpx.Client) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert spec["info"]["title"] == "pcsearch API"
    assert set(spec["paths"]) >= {
        "/api/v1/studies",
        "/api/v1/studies/{name}",
        "/api/v1/studies/{name}/trials",
        "/api/v1/studies/{name}/stop",
        "/api/v1/studies/{name}/resume",
        "/api/v1/tasks",
        "/api/v1/algorithms",
        "/api/v1/spaces",
        "/api/v1/spaces/{name}",
        "/healthz",
        "/readyz",
    }
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


@pytest.mark.postgres
def test_catalogue(client: httpx.Client) -> None:
    tasks = {t["name"]: t for t in client.get("/api/v1/tasks").json()}
    assert tasks["mlp-mnist"]["direction"] == "maximize"
    algorithms = {a["name"]: a for a in client.get("/api/v1/algorithms").json()}
    assert algorithms["mcpc"]["implemented"] and algorithms["pc-se"]["implemented"]
    spaces = {s["ref"]: s for s in client.get("/api/v1/spaces").json()}
    assert spaces["discriminative-pc@1"]["kind"] == "bayesian"
    space = client.get("/api/v1/spaces/discriminative-pc@1").json()
    assert space["name"] == "discriminative-pc" and "T" in space["params"]
    missing = client.get("/api/v1/spaces/no-such-space")
    assert missing.status_code == 404 and "choose one of" in missing.json()["detail"]


def test_journal_storage_serves_the_same_routes(tmp_path: Path) -> None:
    settings = settings_for(str(tmp_path / "studies.journal"), api_tokens="")
    body = {"name": "local", "task": "mlp-digits", "algorithm": "pc-se", "n_trials": 2}
    with serve(settings) as base:
        assert httpx.post(f"{base}/api/v1/studies", json=body).status_code == 201
        assert httpx.get(f"{base}/api/v1/studies").json()["total"] == 1
        assert httpx.get(f"{base}/api/v1/studies/local/trials").json()["total"] == 0
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready", "schema_version": None}
        assert httpx.post(f"{base}/api/v1/studies/local/stop").json()["state"] == "stopped"


def test_the_api_never_imports_jax() -> None:
    code = (
        "import sys\n"
        "from api.main import create_app\n"
        "from store.settings import Settings\n"
        "app = create_app(Settings(database_url='x.journal'))\n"
        "app.openapi()\n"
        "assert 'jax' not in sys.modules, 'the API imported jax'\n"
        "assert 'fastapi' in sys.modules\n"
        "print('ok')\n"
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_database_that_never_answers_neither_hangs_requests_nor_health() -> None:
    """A listener that accepts connections and says nothing (a hung database host): study
    requests end as 503 within the connect timeout, and /healthz answers meanwhile."""
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{silent.getsockname()[1]}/x"
    settings = settings_for(url, api_tokens="", api_connect_timeout_seconds=2)
    try:
        with serve(settings) as base:
            answers: list[int] = []

            def ask() -> None:
                answers.append(httpx.get(f"{base}/api/v1/studies", timeout=60).status_code)

            askers = [threading.Thread(target=ask) for _ in range(8)]
            started = time.monotonic()
            for t in askers:
                t.start()
            time.sleep(0.3)
            health = httpx.get(f"{base}/healthz", timeout=5)
            health_took = time.monotonic() - started - 0.3
            for t in askers:
                t.join()
            took = time.monotonic() - started
    finally:
        silent.close()
    assert health.status_code == 200 and health_took < 1.0
    assert answers == [503] * 8
    assert took < 8  # one connect timeout, not one per request


@pytest.mark.postgres
def test_a_browser_renders_the_docs_offline(api) -> None:
    """Swagger UI runs in a real browser from the installed package's assets alone (this
    machine has no internet, so a CDN asset would leave the page blank)."""
    from tests.browser import rendered_dom

    dom = rendered_dom(f"{api.url}/docs")
    assert "swagger-ui" in dom
    assert 'class="opblock-summary-path"' in dom or "opblock-summary-path" in dom, dom[-2000:]
    for path in ("/api/v1/studies", "/api/v1/studies/{name}/trials", "/readyz"):
        assert path in dom, path
