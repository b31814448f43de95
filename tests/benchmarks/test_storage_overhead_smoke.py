"""The storage benchmark end to end with tiny numbers: real dry-run workers on a throwaway
database and role, every column measured, and both dropped afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]


def test_storage_overhead_smoke(postgres_url: str, tmp_path: Path) -> None:
    admin_url = postgres_url.rsplit("/", 1)[0] + "/postgres"
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable, str(REPO / "benchmarks" / "storage_overhead.py"),
            "--layouts", "1,2", "--trials", "6", "--url", admin_url, "--json", str(figures),
        ],
        capture_output=True, text=True, timeout=240, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(figures.read_text())
    rows = summary["rows"]
    assert [r["workers"] for r in rows] == [1, 2]
    for r in rows:
        assert r["per_second"] > 0 and r["errors"] == 0 and r["lost"] == 0 and r["died"] == 0
        assert 1 <= r["peak_fleet_connections"] <= 2 * r["workers"], r  # two per worker at most
        assert 0 < r["mean_fleet_connections"] <= r["peak_fleet_connections"], r
        assert r["peak_fleet_connections"] < r["peak_server_connections"] <= r["max_connections"]
        assert r["peak_worker_rss_mb"] > 0 and r["peak_fleet_pss_mb"] > 0
        assert r["jax_loaded"] is False, "a dry-run worker imported JAX"
    assert "fleet peak, server peak" in done.stdout
    assert "JAX loaded by a dry-run worker: no" in done.stdout
    import psycopg2

    from tests.conftest import POSTGRES

    with psycopg2.connect(dbname="postgres", **POSTGRES) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (summary["database"],))
        assert cur.fetchone()[0] == 0, "the benchmark left its database behind"
        cur.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (summary["role"],))
        assert cur.fetchone()[0] == 0, "the benchmark left its role behind"
