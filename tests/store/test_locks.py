"""The named locks behind exact trial counts and safe schema creation, on each database
that has them: exclusive across connections, bounded waits, and a holder that learns when
its connection (and so its lock) died mid-claim."""

from __future__ import annotations

import threading
import time
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


@pytest.fixture
def two_connection_role(postgres_url: str) -> Iterator[str]:
    """The test database as a role the server allows two connections."""
    import secrets

    name = f"pcsearch_two_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sqlalchemy.text(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT 2'))
    url = postgres_url.replace("//postgres@", f"//{name}@")
    try:
        yield url
    finally:
        _lock_engine(url).dispose()
        with admin.connect() as c:
            c.execute(
                sqlalchemy.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE usename = :n"), {"n": name}
            )  # fmt: skip
            c.execute(sqlalchemy.text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


def connections_of(url: str) -> int:
    user = sqlalchemy.engine.make_url(url).username
    admin = sqlalchemy.create_engine(url.replace(f"//{user}@", "//postgres@"))
    try:
        with admin.connect() as c:
            query = "SELECT count(*) FROM pg_stat_activity WHERE usename = :u"
            return int(c.execute(sqlalchemy.text(query), {"u": user}).scalar())
    finally:
        admin.dispose()


def test_a_waiter_does_not_keep_the_holder_from_a_connection(two_connection_role: str) -> None:
    """The holder of a slot lock needs a second connection (the storage's) to finish. A
    waiter that kept its connection for its whole wait would take the last one the server
    allows, and the holder would wait out the waiter's lock timeout (30 s here)."""
    import psycopg2

    url = two_connection_role
    user = sqlalchemy.engine.make_url(url)
    with _named_lock(url, "slots crowded", timeout=30):

        def wait_for_it() -> None:
            with _named_lock(url, "slots crowded", timeout=30):
                pass

        waited = threading.Thread(target=wait_for_it, daemon=True)
        waited.start()
        give_up = time.monotonic() + 10
        while connections_of(url) < 2 and time.monotonic() < give_up:
            time.sleep(0.02)
        assert connections_of(url) == 2, "the waiter never asked"
        connected = None
        while connected is None and time.monotonic() < give_up:
            try:
                connected = psycopg2.connect(
                    host=user.host, port=user.port, user=user.username, dbname=user.database
                )
            except psycopg2.OperationalError as error:
                assert "too many connections" in str(error), error
                time.sleep(0.05)
        assert connected is not None, "the holder got no connection while the waiter waited"
        connected.close()
    waited.join(30)
    assert not waited.is_alive(), "the waiter never got the lock after the holder let go"
