"""Shared fixtures: offline data, one compilation cache per session, the pcsearch command,
and a throwaway PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test processes, and every process they start, compile with XLA's CPU back end at
# optimisation level 1 instead of its default: the suite compiles hundreds of small
# programs once each, and level 1 halves the compile time of many (a model's random
# initial weights: a program per weight shape) while running tests' tiny steps about as
# fast. Level 0 was tried too: it made run-bound tests (MCPC on Iris) 4x slower. Set
# XLA_FLAGS with a level of your own to override this.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=1"
    ).strip()

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@pytest.fixture(scope="session", autouse=True)
def pcsearch_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One JAX compilation cache for the run, in this process, in every worker process it
    starts (they inherit os.environ) and in the other test processes of ``pytest -n`` (they
    share the run's temporary root, as local workers share a cache); the user's own cache
    is left alone."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # base is <run root>/popen-gwN
        base = base.parent
    path = base / "pcsearch-cache"
    path.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PCSEARCH_CACHE_DIR", str(path))
        # On from the start, not from the first training run: the small programs that build
        # models (a random draw per weight shape) then compile once for all test processes.
        from pcsearch.compile_cache import default_cache_dir, enable_compilation_cache

        enable_compilation_cache(default_cache_dir())
        yield path


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder that holds mnist/ (real MNIST), or skip when this checkout has none."""
    if not (SHARED_DATA / "mnist" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pcsearch_exe() -> str:
    """The ``pcsearch`` console script of the interpreter running the tests."""
    candidate = Path(sys.executable).with_name("pcsearch")
    found = str(candidate) if candidate.exists() else shutil.which("pcsearch")
    assert found, "the pcsearch console script is not installed; pip install -e ."
    return found


def _unreachable(reason: str) -> None:
    """Skip, or fail under CI=true where a missing Postgres is a broken setup."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this session, dropped at the end; its SQLAlchemy URL."""
    try:
        import psycopg2
    except ImportError as error:
        _unreachable(f"psycopg2 is not importable ({error})")
    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=3, **POSTGRES)
    except psycopg2.OperationalError as error:
        _unreachable(f"{POSTGRES['host']}:{POSTGRES['port']}: {str(error).strip()}")
    admin.close()
    with database() as url:
        yield url


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A new, empty database, dropped afterwards (reconnecting: a test may have restarted
    the server meanwhile)."""
    import psycopg2

    name = f"pcsearch_test_{secrets.token_hex(6)}"
    _admin(lambda cur: cur.execute(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg2://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    finally:
        from store import storage

        storage.dispose_engines()
        for _ in range(30):  # the server may still be coming back from a restart
            try:
                _admin(lambda cur: cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except psycopg2.OperationalError:
                time.sleep(1)


def _admin(action) -> None:
    import psycopg2

    admin = psycopg2.connect(dbname="postgres", connect_timeout=3, **POSTGRES)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            action(cur)
    finally:
        admin.close()


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """An empty database of its own (no Optuna schema yet), for one test."""
    with database() as url:
        yield url
