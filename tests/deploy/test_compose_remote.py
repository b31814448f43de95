"""Workers on other machines: docker-compose.worker.yml (an extra GPU machine runs only
its worker, against the head node's Postgres, over TLS) and deploy/compose.postgres-public.yml
(laid over docker-compose.yml on the head node: Postgres published, TLS on). The override is
merged as Compose merges files; its server options and the documented way to make a
certificate are run for real with this machine's PostgreSQL server binaries."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.api.helpers import free_port
from tests.deploy.helpers import (
    COMPOSE,
    COMPOSE_POSTGRES_PUBLIC,
    COMPOSE_WORKER,
    ENV_EXAMPLE,
    MissingVariable,
    configured_env,
    env_file,
    interpolate,
    load,
    merge,
    mount_target,
    mounts,
)

SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
"""libpq's sslmode values."""


def services(doc: dict) -> dict[str, dict]:
    return doc["services"]


def worker_file(**changes: str | None) -> dict:
    """docker-compose.worker.yml as Compose reads it with .env.example's options on,
    then ``changes`` (None unsets a variable)."""
    env = configured_env() | changes
    return interpolate(load(COMPOSE_WORKER), {k: v for k, v in env.items() if v is not None})


def worker_url(**changes: str | None):
    url = services(worker_file(**changes))["worker"]["environment"]["PCSEARCH_DATABASE_URL"]
    return make_url(url)


# --- an extra GPU machine ---------------------------------------------------------------------


def test_an_extra_machine_runs_only_its_worker() -> None:
    doc = worker_file()
    assert set(services(doc)) == {"worker"}
    worker = services(doc)["worker"]
    assert "depends_on" not in worker, "Postgres is on the head node, not in this file"
    assert "ports" not in worker


def test_it_runs_the_head_nodes_worker_unchanged() -> None:
    """The same image, command, GPUs, lock, healthcheck and shutdown as the head node's
    worker service; only the database URL differs."""
    head = services(interpolate(load(COMPOSE), configured_env()))["worker"]
    extra = services(worker_file())["worker"]
    for key in sorted((set(head) | set(extra)) - {"depends_on", "environment"}):
        assert extra.get(key) == head.get(key), key
    url = "PCSEARCH_DATABASE_URL"
    assert {k: v for k, v in extra["environment"].items() if k != url} == {
        k: v for k, v in head["environment"].items() if k != url
    }


def test_its_volumes_are_the_head_nodes_on_one_machine() -> None:
    """The cache volume (where the worker lock lives) has the name Compose gives the head
    node's, so a machine that ran both files would still have one lock."""
    head, extra = load(COMPOSE), load(COMPOSE_WORKER)
    assert extra["name"] != head["name"], "another project: its `down` leaves the head's alone"
    lock = Path(services(worker_file())["worker"]["environment"]["PCSEARCH_WORKER_LOCK"])
    assert mounts(services(worker_file())["worker"])[str(lock.parent)] == "jax-cache"
    for volume in ("jax-cache", "datasets"):
        assert extra["volumes"][volume]["name"] == f"{head['name']}_{volume}", volume


def test_it_reaches_the_head_node_with_tls_when_told() -> None:
    env = env_file(ENV_EXAMPLE)
    url = worker_url()
    assert url.drivername == "postgresql+psycopg2"
    assert (url.username, url.database) == ("pcsearch", "pcsearch")
    assert url.password == env["POSTGRES_PASSWORD"]
    documented = configured_env()
    assert (url.host, url.port) == (documented["PCSEARCH_DB_HOST"], 5432)
    assert documented["PCSEARCH_DB_SSLMODE"] == "require", ".env.example advises require"
    assert url.query == {"sslmode": "require"}
    assert worker_url(PCSEARCH_DB_SSLMODE=None).query == {"sslmode": "prefer"}
    assert worker_url(PCSEARCH_DB_PORT="6432").port == 6432
    for mode in SSLMODES:
        assert worker_url(PCSEARCH_DB_SSLMODE=mode).query == {"sslmode": mode}


@pytest.mark.parametrize("missing", ["PCSEARCH_DB_HOST", "POSTGRES_PASSWORD"])
def test_it_needs_the_head_node_and_its_password(missing: str) -> None:
    with pytest.raises(MissingVariable, match=f"{missing} .*\\.env"):
        worker_file(**{missing: None})


@pytest.mark.postgres
def test_sslmode_reaches_the_database_driver(postgres_url: str) -> None:
    """The URL's sslmode is libpq's: `require` refuses a server without TLS (this
    machine's), `prefer` falls back to plain text."""
    local = make_url(postgres_url)

    def connect(mode: str) -> None:
        url = worker_url(PCSEARCH_DB_SSLMODE=mode).set(
            host=local.host, port=local.port, username=local.username, database=local.database
        )
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        finally:
            engine.dispose()

    connect("prefer")
    with pytest.raises(Exception, match="(?i)ssl"):
        connect("require")


# --- the head node's Postgres, published ------------------------------------------------------


def public(**changes: str | None) -> dict:
    """docker-compose.yml with deploy/compose.postgres-public.yml laid over it."""
    env = configured_env() | changes
    merged = merge(load(COMPOSE), load(COMPOSE_POSTGRES_PUBLIC))
    return interpolate(merged, {k: v for k, v in env.items() if v is not None})


def test_the_merge_follows_compose() -> None:
    """The merge these tests rely on can tell: the later command wins, volumes merge by
    container path, ports are appended."""
    base = {
        "services": {
            "s": {
                "command": ["a", "b"],
                "volumes": ["v:/x", "w:/y"],
                "ports": ["1:1"],
                "environment": {"A": "1"},
            }
        }
    }
    over = {
        "services": {
            "s": {
                "command": ["c"],
                "volumes": ["u:/y:ro"],
                "ports": ["2:2"],
                "environment": ["B=2"],
                "healthcheck": {"test": ["CMD", "t"]},
            }
        }
    }
    merged = merge(base, over)["services"]["s"]
    assert merged["command"] == ["c"]
    assert merged["volumes"] == ["v:/x", "u:/y:ro"]
    assert merged["ports"] == ["1:1", "2:2"]
    assert merged["environment"] == {"A": "1", "B": "2"}
    assert mount_target({"type": "bind", "source": "/a", "target": "/b"}) == "/b"


def test_postgres_is_published_where_asked_only() -> None:
    bind = configured_env()["PCSEARCH_POSTGRES_BIND"]
    assert bind != "0.0.0.0", ".env.example suggests a private address"
    assert services(public())["postgres"]["ports"] == [f"{bind}:5432:5432"]
    with pytest.raises(MissingVariable, match="PCSEARCH_POSTGRES_BIND .*private address"):
        public(PCSEARCH_POSTGRES_BIND=None)


def tls_options(doc: dict) -> dict[str, str]:
    command = services(doc)["postgres"]["command"]
    assert command[0] == "postgres", "the image's entrypoint still initialises the database"
    pairs = command[1:]
    assert all(flag == "-c" for flag in pairs[::2]), command
    return dict(option.split("=", 1) for option in pairs[1::2])


def test_postgres_turns_tls_on_with_the_mounted_pair() -> None:
    doc = public()
    postgres = services(doc)["postgres"]
    options = tls_options(doc)
    assert options["ssl"] == "on"
    found = mounts(postgres)
    assert found["/var/lib/postgresql/data"] == "postgres-data", "the data volume stays"
    folder = Path(options["ssl_cert_file"]).parent
    assert Path(options["ssl_key_file"]).parent == folder
    assert found[str(folder)] == configured_env()["PCSEARCH_POSTGRES_TLS_DIR"]
    [mount] = [v for v in postgres["volumes"] if mount_target(v) == str(folder)]
    assert mount.endswith(":ro")
    assert not found[str(folder)].startswith(("./", "../")), "outside the checkout"
    with pytest.raises(MissingVariable, match="PCSEARCH_POSTGRES_TLS_DIR"):
        public(PCSEARCH_POSTGRES_TLS_DIR=None)
    # Nothing else changes.
    head = services(interpolate(load(COMPOSE), configured_env()))
    for name, service in services(doc).items():
        if name != "postgres":
            assert service == head[name], name
    assert postgres["healthcheck"] == head["postgres"]["healthcheck"]


def documented_certificate_commands() -> list[str]:
    """The `sudo ...` lines of the override's opening comment, without sudo."""
    lines = re.findall(r"^#\s+sudo (.+)$", COMPOSE_POSTGRES_PUBLIC.read_text(), re.M)
    return [re.sub(r"\bsudo ", "", line) for line in lines]


def server_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def as_server_user(argv: list[str]) -> list[str]:
    """The server refuses to run as root; the postgres user runs it then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture
def tls_folder() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pcsearch-tls-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.skipif(server_bin() is None, reason="no PostgreSQL server binaries")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_documented_certificate_serves_tls(tls_folder: Path) -> None:
    """The override's certificate recipe, then a server started with the override's
    options (the folder moved to a temporary one): a client with sslmode=require gets an
    encrypted session."""
    commands = documented_certificate_commands()
    [openssl] = [c for c in commands if c.startswith("openssl ")]
    assert "-nodes" in openssl, "the server cannot type a passphrase"
    [owner] = [c for c in commands if c.startswith("chown ")]
    assert owner == "chown 999:999 server.key && chmod 600 server.key", owner
    made = subprocess.run(shlex.split(openssl), cwd=tls_folder, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = tls_folder / "server.key"
    key.chmod(0o600)  # and owned by the server's user, as the recipe says (999 there)
    if os.geteuid() == 0:
        shutil.chown(key, "postgres")
        shutil.chown(tls_folder / "server.crt", "postgres")

    options = tls_options(public())
    mounted = str(Path(options["ssl_cert_file"]).parent)
    options = {k: v.replace(mounted, str(tls_folder)) for k, v in options.items()}
    bin_dir, data, port = server_bin(), tls_folder / "data", free_port()
    assert bin_dir is not None
    init = subprocess.run(as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A",
                          "trust", "-U", "postgres", "--no-sync"]),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert init.returncode == 0, init.stderr
    server_options = [f"-p {port}", f"-k {tls_folder}", "-c listen_addresses=127.0.0.1"]
    server_options += [f"-c {k}={v}" for k, v in options.items()]
    log = tls_folder / "server.log"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = subprocess.run(
        as_server_user([*pg_ctl, "start", "-w", "-o", " ".join(server_options), "-l", str(log)]),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr + (log.read_text() if log.exists() else "")
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres?sslmode=require"
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                ssl = conn.execute(
                    text("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
                ).scalar()
        finally:
            engine.dispose()
        assert ssl is True
    finally:
        subprocess.run(as_server_user([*pg_ctl, "stop", "-m", "immediate"]),
                       capture_output=True, timeout=60)  # fmt: skip
