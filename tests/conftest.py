"""Shared fixtures: where the offline data lives, and a compilation cache per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    # A per-session compilation cache: worker subprocesses reuse what earlier ones compiled,
    # and the user's own cache is left alone.
    if "PCSEARCH_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["PCSEARCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="pcsearch-test-cache-")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder that holds mnist/ (real MNIST), or skip when this checkout has none."""
    if not (SHARED_DATA / "mnist" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found in {SHARED_DATA}")
    return SHARED_DATA
