"""Workers on PostgreSQL: real ``pcsearch worker`` processes share one study exactly, and
the slot lock is a real cross-connection lock.

Each session gets a fresh database (see conftest.postgres_url); without a server these
tests skip, under CI=true they fail.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import optuna
import psycopg2
import pytest
from optuna.trial import TrialState

from search_spaces import default_space
from store.config import StudyConfig
from store.storage import open_storage, slot_lock
from store.studies import create_or_resume
from workers.local import worker_env

pytestmark = pytest.mark.postgres

TASK, ALGORITHM = "mlp-two-moons", "pc-se"


def database_of(url: str) -> str:
    return url.rpartition("/")[2]


@pytest.mark.slow
def test_two_worker_processes_finish_exactly_the_study(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    # The default space with its structural parameters pinned: every trial then runs the
    # same compiled program, so the workers spend their time training, not compiling.
    space = default_space(TASK, ALGORITHM).to_dict()
    space["params"]["T"] = {"type": "fixed", "value": 8}
    space["params"]["activation"] = {"type": "fixed", "value": "leaky_relu"}
    config = StudyConfig(
        task=TASK,
        algorithm=ALGORITHM,
        space=space,
        n_trials=6,
        overrides={"epochs": 3},
        seed=1,
    )
    create_or_resume(open_storage(postgres_url), "pg-moons", config)
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    processes = []
    for i, log in enumerate(logs):
        with open(log, "w") as handle:
            processes.append(
                subprocess.Popen(
                    [
                        pcsearch_exe,
                        "worker",
                        "--storage",
                        postgres_url,
                        "--study",
                        "pg-moons",
                        "--until-done",
                        "--seed",
                        str(100 + i),
                    ],
                    cwd=tmp_path,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    env=worker_env(i, 2),
                )  # fmt: skip
            )
    try:
        codes = [p.wait(timeout=240) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    output = "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in logs)
    assert codes == [0, 0], output

    study = optuna.load_study(study_name="pg-moons", storage=open_storage(postgres_url))
    trials = study.get_trials()
    states = [t.state for t in trials]
    assert len(trials) == 6, states
    assert all(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states), states
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2, f"{workers}\n{output}"
    for t in trials:
        assert len(t.user_attrs["epoch_values"]) == len(t.intermediate_values) >= 1
        assert t.user_attrs["status"] in ("completed", "stopped", "diverged")
    assert study.best_value > 0.5


def test_slot_lock_excludes_across_connections(postgres_url: str) -> None:
    """A second holder waits inside Postgres until the first releases; no timing guesses:
    the waiting is observed in pg_locks, the order in a list."""
    order: list[str] = []
    first_in, release_first, second_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with slot_lock(postgres_url, "locked-study"):
                order.append("first in")
                first_in.set()
                release_first.wait(timeout=60)
                order.append("first out")
        except BaseException as error:  # surfaced by the main thread
            errors.append(error)
            first_in.set()

    def second() -> None:
        try:
            with slot_lock(postgres_url, "locked-study"):
                order.append("second in")
        except BaseException as error:
            errors.append(error)
        finally:
            second_done.set()

    a = threading.Thread(target=first, daemon=True)
    a.start()
    assert first_in.wait(timeout=30) and not errors, errors
    b = threading.Thread(target=second, daemon=True)
    b.start()

    # Wait until Postgres itself shows the second connection blocked on the advisory lock.
    admin = psycopg2.connect(postgres_url.replace("postgresql+psycopg2://", "postgresql://"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for _ in range(600):
                cur.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON l.database = d.oid "
                    "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = %s",
                    (database_of(postgres_url),),
                )
                if cur.fetchone()[0] == 1 or second_done.is_set():
                    break
                second_done.wait(0.05)
            waiting = not second_done.is_set()
    finally:
        admin.close()
    assert waiting, f"the second holder was not blocked by the first: {order}"
    assert order == ["first in"]

    release_first.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert not errors, errors
    assert order == ["first in", "first out", "second in"]


def test_slot_locks_of_different_studies_do_not_block(postgres_url: str) -> None:
    entered = threading.Event()

    def other() -> None:
        with slot_lock(postgres_url, "study-b"):
            entered.set()

    with slot_lock(postgres_url, "study-a"):
        thread = threading.Thread(target=other, daemon=True)
        thread.start()
        # Fails only if the lock of study-a wrongly held study-b's worker for a minute.
        assert entered.wait(timeout=60)
    thread.join(timeout=30)
