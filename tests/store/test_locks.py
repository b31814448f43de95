"""The named locks behind exact trial counts and safe schema creation, on each database
that has them: exclusive across connections, bounded waits, and a holder that learns when
its connection (and so its lock) died mid-claim."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy

from store.storage import LockLost, _lock_engine, _named_lock

MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"


def mysql_reachable() -> bool:
    try:
        with sqlalchemy.create_engine(MYSQL).connect():
            return True
    except Exception:
        return False


@pytest.fixture(params=["postgres", "mysql"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, Callable[[str], None]]]:
    """A database URL, and how to kill the connection that holds a given lock."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")

        def kill(_: str) -> None:  # in this test's database only: others may run beside it
            with sqlalchemy.create_engine(url).connect() as c:
                c.execute(sqlalchemy.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ))  # fmt: skip

        yield url, kill
        return
    if not mysql_reachable():
        pytest.skip("MariaDB/MySQL is not running on 127.0.0.1:3306")

    def kill_mysql(name: str) -> None:
        import hashlib

        key = hashlib.sha256(name.encode()).hexdigest()[:60]
        with sqlalchemy.create_engine(MYSQL).connect() as c:
            holder = c.execute(sqlalchemy.text("SELECT IS_USED_LOCK(:k)"), {"k": key}).scalar()
            c.execute(sqlalchemy.text(f"KILL {int(holder)}"))

    yield MYSQL, kill_mysql
    _lock_engine(MYSQL).dispose()


pytestmark = pytest.mark.postgres


def test_a_held_lock_keeps_others_out_until_released(backend) -> None:
    url, _ = backend
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _named_lock(url, "slots exclusive", timeout=5):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(30)
    with (
        pytest.raises(TimeoutError, match="not granted within 0.5 s"),
        _named_lock(url, "slots exclusive", timeout=0.5),
    ):
        pass
    with _named_lock(url, "slots another study", timeout=0.5):
        pass  # other names are independent
    release.set()
    holder.join(30)
    with _named_lock(url, "slots exclusive", timeout=5):
        pass


def test_a_holder_whose_connection_died_is_told(backend) -> None:
    url, kill = backend
    with pytest.raises(LockLost, match="was lost"), _named_lock(url, "slots doomed", timeout=5):
        kill("slots doomed")
    # The lock is free again for everyone else.
    with _named_lock(url, "slots doomed", timeout=5):
        pass
