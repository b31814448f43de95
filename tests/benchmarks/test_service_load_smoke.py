"""The service benchmark end to end with tiny numbers: it fills a throwaway database,
serves it with `pcsearch api`, loads it, reports every route, and drops the database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]


def test_service_load_smoke(postgres_url: str, tmp_path: Path) -> None:
    admin_url = postgres_url.rsplit("/", 1)[0] + "/postgres"
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable, str(REPO / "benchmarks" / "service_load.py"),
            "--studies", "4", "--trials", "40", "--clients", "4", "--seconds", "2",
            "--workers", "1", "--post-share", "0.2",
            "--admin-url", admin_url, "--json", str(figures),
        ],
        capture_output=True, text=True, timeout=240, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(figures.read_text())
    assert summary["requests_per_second"] > 0
    routes = summary["routes"]
    assert set(routes) == {"GET /studies", "GET /studies/{name}", "POST /studies"}
    for row in routes.values():
        assert row["requests"] > 0 and row["errors"] == 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
    assert "p99 ms" in done.stdout and "requests/s" in done.stdout
    import psycopg2

    from tests.conftest import POSTGRES

    with psycopg2.connect(dbname="postgres", **POSTGRES) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (summary["database"],))
        assert cur.fetchone()[0] == 0, "the benchmark left its database behind"
