"""A worker's liveness file: a clean stop removes it, even while a beat writes it again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.settings import settings
from workers import liveness


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PCSEARCH_WORKER_STATE_DIR", str(tmp_path))
    settings.cache_clear()
    yield tmp_path
    liveness.stop()
    settings.cache_clear()


def test_a_stop_during_a_beats_rewrite_leaves_no_file(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = liveness.start()
    path.unlink()  # e.g. swept by a health check that took the worker for dead
    writing, release = threading.Event(), threading.Event()
    write = liveness._write

    def slow_write(target: Path, index: int | None) -> None:
        writing.set()
        release.wait(10)
        write(target, index)

    monkeypatch.setattr(liveness, "_write", slow_write)
    beat = threading.Thread(target=liveness.beat)
    beat.start()
    assert writing.wait(10), "the beat did not write the file again"
    stopper = threading.Thread(target=liveness.stop)  # as the stop watchdog's thread does
    stopper.start()
    time.sleep(0.3)  # the stop runs into the write
    release.set()
    beat.join(10)
    stopper.join(10)
    assert not list(state.glob("worker-*.json")), "a stopped worker left its liveness file"


def test_a_beat_after_the_stop_makes_no_file(state: Path) -> None:
    path = liveness.start()
    assert path.exists()
    liveness.stop()
    liveness.beat()
    assert not path.exists()
