"""docker-compose.yml, checked without a Docker engine: against the Compose specification's
JSON schema, for the service set and wiring the README promises (one worker container per
machine, one build per image, nothing published but on localhost), for secrets, and for
commands that pcsearch's own parser accepts. The worker-only file and the Postgres override
are in test_compose_remote.py, the healthchecks in test_compose_health.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy.engine import make_url

from tests.deploy.helpers import (
    COMPOSE,
    COMPOSE_POSTGRES_PUBLIC,
    COMPOSE_WORKER,
    ENV_EXAMPLE,
    REPO,
    MissingVariable,
    command_argv,
    compose_schema,
    configured_env,
    documented,
    env_file,
    interpolate,
    load,
    merge,
    mounts,
    parse_pcsearch,
    variables,
)

COMPOSE_FILES = (COMPOSE, COMPOSE_WORKER, COMPOSE_POSTGRES_PUBLIC)
PCSEARCH_SERVICES = ("api", "worker", "worker-cpu", "dashboard")
COMMANDS = {
    "api": "pcsearch api --host 0.0.0.0 --port 8000",
    "worker": "pcsearch worker",
    "worker-cpu": "pcsearch worker --procs 2",
    "dashboard": "pcsearch dashboard --host 0.0.0.0 --port 8080 --behind-auth-proxy",
}
REQUIRED = ("POSTGRES_PASSWORD", "PCSEARCH_API_TOKENS")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEY", re.I)
IMAGE_DOCKERFILES = {
    "pcsearch:cpu": "deploy/Dockerfile.cpu",
    "pcsearch:cuda": "deploy/Dockerfile.cuda",
}


@pytest.fixture(scope="module")
def raw() -> dict:
    return load(COMPOSE)


@pytest.fixture(scope="module")
def example_env() -> dict[str, str]:
    return env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(raw: dict, example_env: dict[str, str]) -> dict:
    """The file as Compose sees it with .env copied from .env.example."""
    return interpolate(raw, example_env)


def services(doc: dict) -> dict[str, dict]:
    return doc["services"]


def every_document() -> dict[str, dict]:
    """Each way the files are used, as Compose would read it with every option of
    .env.example turned on: the head node alone, the head node with Postgres published,
    an extra GPU machine."""
    env = configured_env()
    base = load(COMPOSE)
    return {
        "docker-compose.yml": interpolate(base, env),
        "docker-compose.yml + compose.postgres-public.yml": interpolate(
            merge(base, load(COMPOSE_POSTGRES_PUBLIC)), env
        ),
        "docker-compose.worker.yml": interpolate(load(COMPOSE_WORKER), env),
    }


def test_follows_the_compose_specification(raw: dict, compose: dict) -> None:
    validator = jsonschema.Draft202012Validator(compose_schema())
    documents = {"raw": raw, "with .env.example": compose, **every_document()}
    documents |= {path.name + " (raw)": load(path) for path in COMPOSE_FILES}
    for name, doc in documents.items():
        problems = [f"{name}: {e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
        assert not problems, "\n".join(problems)


def test_the_schema_catches_a_typo(raw: dict) -> None:
    """The check above can fail: a misspelt key is reported."""
    doc = json.loads(json.dumps(raw))
    doc["services"]["worker"]["stop_grace_peroid"] = "30s"
    assert not jsonschema.Draft202012Validator(compose_schema()).is_valid(doc)


def test_services(compose: dict) -> None:
    assert set(services(compose)) == {"secrets-check", "postgres", *PCSEARCH_SERVICES}
    assert services(compose)["worker-cpu"]["profiles"] == ["cpu"]
    assert all("profiles" not in s for n, s in services(compose).items() if n != "worker-cpu")


def test_postgres_is_healthchecked_and_waited_for(compose: dict) -> None:
    postgres = services(compose)["postgres"]
    assert re.fullmatch(r"postgres:1[56](\.\d+)*(-\w+)?", postgres["image"]), postgres["image"]
    test = postgres["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and "pg_isready" in " ".join(test[1:])
    data = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert len(data) == 1 and data[0].split(":")[0] in compose["volumes"], "a named volume"
    for name in PCSEARCH_SERVICES:
        wait = services(compose)[name]["depends_on"]["postgres"]
        assert wait["condition"] == "service_healthy", name


@pytest.mark.parametrize("name", PCSEARCH_SERVICES)
def test_commands_are_pcsearch_command_lines(compose: dict, name: str) -> None:
    argv = command_argv(services(compose)[name]["command"])
    assert argv == command_argv(COMMANDS[name])
    args = parse_pcsearch(argv)
    assert args.command == argv[1]
    if "--port" in argv:
        assert (args.host, args.port) == ("0.0.0.0", int(argv[argv.index("--port") + 1]))
    assert "--storage" not in argv, "the database URL (and password) goes in the environment"


def test_cpu_workers_are_processes_of_one_container(raw: dict) -> None:
    """PCSEARCH_CPU_WORKERS sets --procs of the one worker-cpu container."""
    env = {name: "x" for name in REQUIRED} | {"PCSEARCH_CPU_WORKERS": "6"}
    argv = command_argv(services(interpolate(raw, env))["worker-cpu"]["command"])
    assert parse_pcsearch(argv).procs == 6


def gpu_services(doc: dict) -> list[str]:
    return [
        name
        for name, service in services(doc).items()
        for device in service.get("deploy", {})
        .get("resources", {})
        .get("reservations", {})
        .get("devices", [])
        if "gpu" in device.get("capabilities", [])
    ]


def test_one_gpu_worker_container_per_machine(compose: dict) -> None:
    """Exactly one service reserves GPUs, all of them; its `pcsearch worker` starts one
    process per GPU, so it must run once per machine: no replicas, and the machine lock."""
    assert gpu_services(compose) == ["worker"]
    worker = services(compose)["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "capabilities": ["gpu"], "count": "all"}]
    assert worker["image"] == "pcsearch:cuda"
    assert services(compose)["worker-cpu"]["image"] == "pcsearch:cpu"
    assert "deploy" not in services(compose)["worker-cpu"]
    for name in ("worker", "worker-cpu"):
        service = services(compose)[name]
        assert "replicas" not in service.get("deploy", {}) and "scale" not in service, name
        assert "container_name" not in service, name


@pytest.mark.parametrize("name", ["worker", "worker-cpu"])
def test_the_worker_lock_is_on_the_volume_every_worker_of_a_machine_shares(
    compose: dict, name: str
) -> None:
    service = services(compose)[name]
    lock = Path(service["environment"]["PCSEARCH_WORKER_LOCK"])
    assert lock.is_absolute() and lock.name, lock
    folders = {str(folder) for folder in lock.parents}
    on = [source for target, source in mounts(service).items() if target in folders]
    assert on == ["jax-cache"], f"{lock} is not on the jax-cache volume"
    # The other worker service of this file mounts the same volume at the same place.
    for other in ("worker", "worker-cpu"):
        assert mounts(services(compose)[other]).get(str(lock.parent)) == "jax-cache", other
        assert services(compose)[other]["environment"]["PCSEARCH_WORKER_LOCK"] == str(lock)


@pytest.mark.parametrize(
    "path", [*COMPOSE_FILES, ENV_EXAMPLE, REPO / "README.md"], ids=lambda p: p.name
)
def test_no_advice_to_scale_workers(path: Path) -> None:
    """`--scale worker=N` on one machine puts N processes on every GPU; nothing says it."""
    found = [line for line in path.read_text().splitlines() if "--scale" in line]
    assert not found, f"{path.name}: {found}"


@pytest.mark.parametrize("path", [COMPOSE, COMPOSE_WORKER], ids=lambda p: p.name)
def test_each_image_is_built_by_one_service(path: Path) -> None:
    """One `build:` per image tag: the others name the image only and never pull it (it
    exists only where it was built)."""
    doc = interpolate(load(path), configured_env())
    by_image: dict[str, list[str]] = {}
    for name, service in services(doc).items():
        by_image.setdefault(service["image"], []).append(name)
    for image, names in by_image.items():
        if not image.startswith("pcsearch:"):
            assert all("build" not in services(doc)[n] for n in names), image
            continue
        builders = [n for n in names if "build" in services(doc)[n]]
        assert len(builders) == 1, f"{image} is built by {builders or 'no service'}"
        build = services(doc)[builders[0]]["build"]
        assert build == {"context": ".", "dockerfile": IMAGE_DOCKERFILES[image]}, build
        for name in names:
            assert services(doc)[name]["pull_policy"] == "never", name


def test_the_cpu_image_is_built_by_the_service_everything_waits_for(compose: dict) -> None:
    """secrets-check runs before any other service, so `up` of any subset builds it."""
    assert "build" in services(compose)["secrets-check"]
    assert services(compose)["secrets-check"]["image"] == "pcsearch:cpu"


@pytest.mark.parametrize("name", ["worker", "worker-cpu"])
def test_workers_stop_gracefully_and_share_caches(compose: dict, name: str) -> None:
    worker = services(compose)[name]
    assert worker["restart"] == "unless-stopped" and worker["init"] is True
    # A worker fails its trials as "worker stopped" and exits within 10 s of SIGTERM.
    assert seconds(worker["stop_grace_period"]) >= 20
    env = worker["environment"]
    assert (env["PCSEARCH_CACHE_DIR"], env["PCSEARCH_DATA_DIR"]) == ("/cache", "/data")
    found = mounts(worker)
    assert set(found) == {"/cache", "/data"}
    assert all(volume in compose["volumes"] for volume in found.values()), "named volumes"


def seconds(duration: str) -> float:
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}
    return sum(float(n) * scale[u] for n, u in parts)


def test_ports_are_local_unless_asked(raw: dict) -> None:
    doc = interpolate(raw, {name: "x" for name in REQUIRED})
    published = {n: s.get("ports", []) for n, s in services(doc).items()}
    assert published["dashboard"] == ["127.0.0.1:8080:8080"]
    assert published["api"] == ["127.0.0.1:8000:8000"]
    assert all(p.startswith("127.0.0.1:") for ports in published.values() for p in ports)
    opened = interpolate(raw, {name: "x" for name in REQUIRED} | {"PCSEARCH_API_BIND": "0.0.0.0"})
    assert services(opened)["api"]["ports"] == ["0.0.0.0:8000:8000"]


def test_postgres_is_not_published(raw: dict) -> None:
    """Only the services of the file reach it, whatever .env says: publishing it is
    deploy/compose.postgres-public.yml's job (test_compose_remote.py)."""
    doc = interpolate(raw, configured_env())
    postgres = services(doc)["postgres"]
    assert "ports" not in postgres and "expose" not in postgres
    assert postgres.get("network_mode") is None


@pytest.mark.parametrize("document", list(every_document()))
def test_logs_are_rotated_everywhere(document: str) -> None:
    for name, service in services(every_document()[document]).items():
        logging = service.get("logging")
        assert logging and logging["driver"] == "json-file", (document, name)
        options = logging["options"]
        assert re.fullmatch(r"\d+[km]", options["max-size"]), (document, name)
        assert 2 <= int(options["max-file"]) <= 10, (document, name)


def test_database_url_is_composed_from_the_env_file(
    compose: dict, example_env: dict[str, str]
) -> None:
    postgres = services(compose)["postgres"]["environment"]
    for name in PCSEARCH_SERVICES:
        url = make_url(services(compose)[name]["environment"]["PCSEARCH_DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg2", name
        assert (url.username, url.database) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
        assert url.password == example_env["POSTGRES_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
        assert (url.host, url.port) == ("postgres", 5432), name
    assert (
        services(compose)["api"]["environment"]["PCSEARCH_API_TOKENS"]
        == (example_env["PCSEARCH_API_TOKENS"])
    )


def test_the_head_nodes_services_use_its_own_postgres(raw: dict) -> None:
    """An .env made for an extra GPU machine (PCSEARCH_DB_HOST set) changes nothing here:
    those settings are docker-compose.worker.yml's."""
    doc = interpolate(raw, configured_env())
    for name in PCSEARCH_SERVICES:
        url = make_url(services(doc)[name]["environment"]["PCSEARCH_DATABASE_URL"])
        assert (url.host, url.port) == ("postgres", 5432), name


def test_secrets_are_checked_before_anything_starts(compose: dict) -> None:
    check = services(compose)["secrets-check"]
    assert check.get("restart", "no") == "no" and "ports" not in check, "a one-shot job"
    assert check["build"]["dockerfile"] == "deploy/Dockerfile.cpu"
    assert set(check["environment"]) == set(REQUIRED)
    for name, service in services(compose).items():
        if name != "secrets-check":
            wait = service["depends_on"]["secrets-check"]
            assert wait["condition"] == "service_completed_successfully", name


def run_secrets_check(raw: dict, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """The secrets-check service's command outside a container: its environment as Compose
    would set it from a .env holding ``env``, in a folder outside the repository (as the
    image's working directory is), with this virtual environment's python."""
    service = services(interpolate(raw, env))["secrets-check"]
    argv = command_argv(service["command"])
    assert argv[0] == "python", argv
    return subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **service["environment"]},
        capture_output=True,
        text=True,
        timeout=60,
    )


STRONG = {
    "POSTGRES_PASSWORD": "Kq3-x9._~Zt7vLm2Pw",
    "PCSEARCH_API_TOKENS": "a" * 16 + ", " + "b" * 43,
}
MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def test_secrets_check_refuses_the_example_env(
    raw: dict, example_env: dict[str, str], tmp_path: Path
) -> None:
    """.env.example copied unchanged starts nothing."""
    done = run_secrets_check(raw, tmp_path, **example_env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and all(MAKE_ONE in line for line in lines), lines
    assert lines[0].startswith("secrets-check: POSTGRES_PASSWORD is the example value 'change-me'")
    assert lines[1].startswith("secrets-check: PCSEARCH_API_TOKENS: token 1 of 1 is the example")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"POSTGRES_PASSWORD": "short-pw-123"}, "POSTGRES_PASSWORD has 12 characters; at least 16"),
        ({"POSTGRES_PASSWORD": "CHANGE_ME"}, "POSTGRES_PASSWORD is the example value"),
        ({"POSTGRES_PASSWORD": "p@ss/word:0123456789"}, "POSTGRES_PASSWORD has characters"),
        ({"PCSEARCH_API_TOKENS": "b" * 43 + ",tiny"}, "token 2 of 2 has 4 characters"),
        ({"PCSEARCH_API_TOKENS": " , "}, "PCSEARCH_API_TOKENS is not set"),
    ],
)
def test_secrets_check_refuses_weak_values(
    raw: dict, tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    done = run_secrets_check(raw, tmp_path, **(STRONG | changes))
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("secrets-check: ") and message in line, line
    secrets = {v.strip() for value in changes.values() for v in value.split(",")}
    for secret in secrets - {"", "CHANGE_ME"}:  # the placeholder is public
        assert secret not in line, "a secret is never printed"


def test_secrets_check_passes_strong_values(raw: dict, tmp_path: Path) -> None:
    done = run_secrets_check(raw, tmp_path, **STRONG)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "strong enough" in done.stdout


@pytest.mark.parametrize("missing", REQUIRED)
def test_required_secrets_fail_with_a_clear_message(raw: dict, missing: str) -> None:
    for match in variables(COMPOSE.read_text()):
        if match["name"] == missing:
            assert match["op"] == ":?" and ".env" in match["arg"], match[0]
    env = {name: "x" for name in REQUIRED if name != missing}
    with pytest.raises(MissingVariable, match=f"{missing}.*\\.env"):
        interpolate(raw, env)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_no_literal_secrets(path: Path) -> None:
    for name, service in services(load(path)).items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Za-z_]\w*(:?\?[^}]*)?\}", value), (name, key)
            for password in re.findall(r"://[^:/@]+:([^@]*)@", value):
                assert re.fullmatch(r"\$\{[A-Za-z_]\w*(:?\?[^}]*)?\}", password), (name, key)
    for name, value in env_file(ENV_EXAMPLE).items():
        if SECRET_NAME.search(name):
            assert value == "change-me", f"{name} in .env.example must be a placeholder"


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_variable_is_documented_in_env_example(path: Path) -> None:
    used = {m["name"] for m in variables(path.read_text())}
    assert used, f"{path.name} reads no variables?"
    assert used <= documented(ENV_EXAMPLE), (
        f"undocumented in .env.example: {sorted(used - documented(ENV_EXAMPLE))}"
    )
    assert set(REQUIRED) <= set(env_file(ENV_EXAMPLE)), "required ones are set, not commented"


def test_env_file_stays_out_of_git_and_images() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=REPO, capture_output=True
    ).returncode
    assert ignored == 0, ".env must be ignored by git"
    assert (
        subprocess.run(
            ["git", "check-ignore", "-q", ".env.example"], cwd=REPO, capture_output=True
        ).returncode
        == 1
    ), ".env.example must be committed"
    patterns = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "*.journal", "*.log"} <= patterns
    assert any("__pycache__" in p for p in patterns) and any("cache" in p for p in patterns)
