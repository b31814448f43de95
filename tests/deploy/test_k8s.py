"""deploy/k8s/, checked without a cluster or a kustomize binary: each overlay rendered here
(the few kustomize features the files use, applied as kustomize applies them, and a test that
refuses any other), every object validated against Kubernetes' own schemas (strict), every
command parsed by pcsearch's own parser, and the secrets, probes, GPUs and images that the
README promises."""

from __future__ import annotations

import base64
import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from sqlalchemy.engine import make_url

from api.secret_check import EXAMPLE_VALUE, is_example, split_tokens
from pcsearch_cli.api_cmd import ApiCommandError, check_bind
from pcsearch_cli.dashboard_cmd import HostCheck, allowed_hosts
from store.settings import ENV_PREFIX, Settings, load_settings
from tests.deploy.helpers import REPO, command_argv, env_file, parse_pcsearch
from workers.signals import HARD_DEADLINE

K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("in-cluster-postgres", "external-database")
KUBERNETES_VERSION = "1.30"
"""The oldest Kubernetes still supported by its major cloud providers when this was written;
the manifests use nothing newer."""
SECRETS_FILE = "secrets.env"
IMAGES = {"api": "pcsearch-cpu", "dashboard": "pcsearch-cpu", "worker": "pcsearch-cuda"}
PCSEARCH_IMAGES = ("pcsearch-cpu", "pcsearch-cuda")
STRONG = {
    "POSTGRES_PASSWORD": "Kq3-x9._~Zt7vLm2Pw",
    "PCSEARCH_API_TOKENS": "a" * 16 + "," + "b" * 43,
    "PCSEARCH_DATABASE_URL": "postgresql+psycopg2://pcsearch:Kq3-x9._~Zt7vLm2Pw@db.lan:5432/pcsearch",
}

# --- rendering: what `kubectl kustomize` does with the features these files use -----------

KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "images", "patches", "secretGenerator"}
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "envFrom": None,  # no merge key: a patch's list replaces the original's
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
"""Strategic-merge keys of the lists a patch here may touch (Kubernetes' API types)."""


def load_docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(folder: Path) -> dict:
    return yaml.safe_load((folder / "kustomization.yaml").read_text())


def render(folder: Path, secrets: dict[str, str] | None = None) -> list[dict]:
    """The objects `kubectl kustomize folder` prints. The Secret's env file is the one the
    user writes (secrets.env); it is not committed, so its example stands in, or ``secrets``."""
    spec = kustomization(folder)
    objects: list[dict] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        objects += render(path, secrets) if path.is_dir() else load_docs(path)
    for generator in spec.get("secretGenerator", []):
        objects.append(generate_secret(folder, generator, secrets))
    for patch in spec.get("patches", []):
        for doc in load_docs(folder / patch["path"]):
            [target] = [o for o in objects if identity(o) == identity(doc)]
            strategic_merge(target, doc)
    for image in spec.get("images", []):
        for container in containers(objects):
            name, tag = split_image(container["image"])
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    ids = [identity(o) for o in objects]
    assert len(ids) == len(set(ids)), f"kustomize refuses duplicates: {ids}"
    return objects


def generate_secret(folder: Path, spec: dict, secrets: dict[str, str] | None) -> dict:
    values: dict[str, str] = {}
    for name in spec["envs"]:
        assert name == SECRETS_FILE, name
        values |= secrets if secrets is not None else env_file(folder / f"{name}.example")
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": spec["name"]}, "data": data}  # fmt: skip


def identity(obj: dict) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def strategic_merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            strategic_merge(target[key], value)
        elif isinstance(value, list) and MERGE_KEYS.get(key) and key in target:
            merge_key = MERGE_KEYS[key]
            for item in value:
                found = [t for t in target[key] if t[merge_key] == item[merge_key]]
                if found:
                    strategic_merge(found[0], item)
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def split_image(image: str) -> tuple[str, str | None]:
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return name, tag or None


def pod_spec(obj: dict) -> dict | None:
    return obj["spec"]["template"]["spec"] if obj["kind"] in ("Deployment", "StatefulSet") else None


def containers(objects: list[dict]) -> list[dict]:
    found = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec:
            found += spec.get("initContainers", []) + spec["containers"]
    return found


def labels_of(workload: dict) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def by_id(objects: list[dict], kind: str, name: str) -> dict:
    [obj] = [o for o in objects if identity(o) == (kind, name)]
    return obj


def container(objects: list[dict], component: str) -> dict:
    spec = pod_spec(by_id(objects, "Deployment", f"pcsearch-{component}"))
    [found] = [c for c in spec["containers"] if c["name"] == component]
    return found


def container_env(objects: list[dict], c: dict) -> dict[str, str]:
    """The environment the kubelet gives ``c``: envFrom first, then env with $(VAR) expanded
    from what is defined so far (kubelet's makeEnvironmentVariables)."""
    env: dict[str, str] = {}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            env |= by_id(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            secret = by_id(objects, "Secret", source["secretRef"]["name"])
            env |= {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    for item in c.get("env", []):
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            data = by_id(objects, "Secret", ref["name"])["data"]
            env[item["name"]] = base64.b64decode(data[ref["key"]]).decode()
    return env


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def objects(overlay: str) -> list[dict]:
    return render(K8S / overlay)


# --- the files keep to what render() does -----------------------------------------------


@pytest.mark.parametrize("folder", ["base", *OVERLAYS])
def test_kustomizations_use_only_what_the_test_renders(folder: str) -> None:
    spec = kustomization(K8S / folder)
    assert spec["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert spec["kind"] == "Kustomization"
    assert set(spec) <= KUSTOMIZATION_KEYS, f"not rendered here: {set(spec) - KUSTOMIZATION_KEYS}"
    for patch in spec.get("patches", []):
        assert set(patch) == {"path"}, "a patch by file, matched by kind and name (no target)"
        text = (K8S / folder / patch["path"]).read_text()
        assert "$patch" not in text and "$setElementOrder" not in text
        for doc in load_docs(K8S / folder / patch["path"]):
            spec_ = doc["spec"]["template"]["spec"]
            lists = {k for c in spec_["containers"] for k, v in c.items() if isinstance(v, list)}
            assert lists <= set(MERGE_KEYS), lists
    for generator in spec.get("secretGenerator", []):
        assert set(generator) == {"name", "envs", "options"}
        assert generator["options"] == {"disableNameSuffixHash": True}, "no hashed names"
    for image in spec.get("images", []):
        assert set(image) <= {"name", "newName", "newTag"}


def test_overlays_are_folders_with_an_example_secrets_file() -> None:
    found = sorted(p.parent.name for p in K8S.glob("*/kustomization.yaml"))
    assert found == sorted(["base", *OVERLAYS])
    for name in OVERLAYS:
        assert (K8S / name / f"{SECRETS_FILE}.example").is_file()
        assert "../base" in kustomization(K8S / name)["resources"]


# --- Kubernetes' schemas ------------------------------------------------------------------


def test_every_object_follows_the_kubernetes_schema(objects: list[dict]) -> None:
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{identity(obj)}: {error.message} at {list(error.path)}")
    assert not problems, "\n".join(problems)


def test_the_schema_catches_a_typo() -> None:
    """Strict validation can fail: a misspelt field is reported."""
    worker = copy.deepcopy(by_id(render(K8S / OVERLAYS[0]), "Deployment", "pcsearch-worker"))
    worker["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 60
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSION, strict=True)


def test_objects(overlay: str, objects: list[dict]) -> None:
    base = {
        ("ConfigMap", "pcsearch-settings"),
        ("Secret", "pcsearch-secrets"),
        ("Deployment", "pcsearch-api"),
        ("Service", "pcsearch-api"),
        ("Deployment", "pcsearch-worker"),
        ("Deployment", "pcsearch-dashboard"),
        ("Service", "pcsearch-dashboard"),
    }
    extra = {("StatefulSet", "pcsearch-postgres"), ("Service", "pcsearch-postgres")}
    expected = base | extra if overlay == "in-cluster-postgres" else base
    assert {identity(o) for o in objects} == expected


def test_services_select_their_pods(objects: list[dict]) -> None:
    workloads = [o for o in objects if pod_spec(o)]
    for obj in workloads:
        assert obj["spec"]["selector"]["matchLabels"].items() <= labels_of(obj).items()
    for service in (o for o in objects if o["kind"] == "Service"):
        selector = service["spec"]["selector"].items()
        [pod] = [w for w in workloads if selector <= labels_of(w).items()]
        ports = {
            p["name"]: p["containerPort"] for c in containers([pod]) for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert ports[port["targetPort"]] == port["port"], identity(service)


# --- commands, probes, GPUs, images -------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]


def test_commands_are_the_compose_command_lines(objects: list[dict]) -> None:
    checked = 0
    for c in containers(objects):
        if split_image(c["image"])[0] not in ("pcsearch", *PCSEARCH_IMAGES):
            continue
        argv = c.get("command", []) + c.get("args", [])
        assert "--storage" not in argv, "the database URL (and password) goes in the environment"
        assert argv == command_argv(compose()[c["name"]]["command"]), c["name"]
        if argv[0] == "pcsearch":
            args = parse_pcsearch(argv)
            assert args.command == argv[1] == c["name"]
        checked += 1
    assert checked >= 3


def test_a_bad_command_does_not_parse() -> None:
    with pytest.raises(AssertionError, match="does not parse"):
        parse_pcsearch(["pcsearch", "worker", "--gpus", "1"])


def test_the_worker_has_one_gpu_and_time_to_give_trials_back(objects: list[dict]) -> None:
    worker = by_id(objects, "Deployment", "pcsearch-worker")
    [c] = worker["spec"]["template"]["spec"]["containers"]
    assert int(c["resources"]["limits"]["nvidia.com/gpu"]) == 1
    assert int(c["resources"].get("requests", {}).get("nvidia.com/gpu", 1)) == 1
    others = [o for o in containers(objects) if o is not c]
    assert not [o["name"] for o in others if "nvidia.com/gpu" in str(o.get("resources"))]
    # The worker exits by HARD_DEADLINE after SIGTERM whatever happens; leave it ample room.
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 3 * HARD_DEADLINE
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0, "no pod waits for a GPU"
    assert parse_pcsearch(c["command"]).procs is None, "one process per visible GPU: one"


def test_api_probes_hit_readyz_and_healthz_on_its_port(objects: list[dict]) -> None:
    c = container(objects, "api")
    port = parse_pcsearch(c["command"]).port
    named = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert named.get(get["port"], get["port"]) == port, probe
    service = by_id(objects, "Service", "pcsearch-api")
    assert [named[p["targetPort"]] for p in service["spec"]["ports"]] == [port]


def test_dashboard_probes_use_a_host_it_answers(objects: list[dict]) -> None:
    c = container(objects, "dashboard")
    args = parse_pcsearch(c["command"])
    check = HostCheck(lambda *_: [], allowed_hosts(args.host, args.allowed_host))
    named = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        get = c[probe]["httpGet"]
        assert named.get(get["port"], get["port"]) == args.port
        [host] = [h["value"] for h in get.get("httpHeaders", []) if h["name"].lower() == "host"]
        assert check.allows(host), host
    assert not check.allows("10.1.2.3"), "the kubelet's default Host (the pod IP) is refused"


def test_images(overlay: str, objects: list[dict]) -> None:
    raw = {c["name"]: c["image"] for c in containers(load_docs_all(K8S / "base"))}
    assert raw == IMAGES
    mapping = {
        i["name"]: f"{i['newName']}:{i['newTag']}" for i in kustomization(K8S / overlay)["images"]
    }
    assert set(mapping) == set(PCSEARCH_IMAGES)
    for name, image in IMAGES.items():
        assert container(objects, name)["image"] == mapping[image]
    # The same images docker-compose.yml builds, from the same Dockerfiles.
    assert mapping["pcsearch-cpu"] == compose()["api"]["image"] == compose()["dashboard"]["image"]
    assert mapping["pcsearch-cuda"] == compose()["worker"]["image"]
    if overlay == "in-cluster-postgres":
        postgres = by_id(objects, "StatefulSet", "pcsearch-postgres")["spec"]["template"]["spec"]
        assert postgres["initContainers"][0]["image"] == mapping["pcsearch-cpu"]


def load_docs_all(folder: Path) -> list[dict]:
    return [doc for path in sorted(folder.glob("*.yaml")) for doc in load_docs(path)
            if doc.get("kind") != "Kustomization"]  # fmt: skip


# --- settings and secrets -------------------------------------------------------------------


def test_settings_are_real_settings_with_valid_values(objects: list[dict]) -> None:
    data = by_id(objects, "ConfigMap", "pcsearch-settings")["data"]
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(data) <= known, f"not settings: {sorted(set(data) - known)}"
    secret_names = re.compile(r"PASSWORD|TOKEN|SECRET|DATABASE_URL")
    assert not [k for k in data if secret_names.search(k)], "secrets belong in the Secret"
    load_settings(**{k.removeprefix(ENV_PREFIX).lower(): v for k, v in data.items()})


def test_every_pcsearch_container_gets_the_database_url(overlay: str, objects: list[dict]) -> None:
    for name in IMAGES:
        env = container_env(objects, container(objects, name))
        url = make_url(env["PCSEARCH_DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg2", name
        if overlay == "in-cluster-postgres":
            postgres = by_id(objects, "StatefulSet", "pcsearch-postgres")
            [db] = postgres["spec"]["template"]["spec"]["containers"]
            db_env = container_env(objects, db)
            service = by_id(objects, "Service", "pcsearch-postgres")
            assert (url.host, url.port) == (
                service["metadata"]["name"],
                service["spec"]["ports"][0]["port"],
            )
            assert (url.username, url.database) == (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"])
            assert url.password == db_env["POSTGRES_PASSWORD"] == EXAMPLE_VALUE
        else:
            assert url.password == EXAMPLE_VALUE


def test_the_api_refuses_the_example_secrets(overlay: str, objects: list[dict]) -> None:
    """secrets.env copied unchanged from its example starts no API (it listens on 0.0.0.0)."""
    c = container(objects, "api")
    env = container_env(objects, c)
    host = parse_pcsearch(c["command"]).host
    with pytest.raises(ApiCommandError, match="PCSEARCH_API_TOKENS"):
        check_bind(host, split_tokens(env["PCSEARCH_API_TOKENS"]), env["PCSEARCH_DATABASE_URL"])
    strong = render(K8S / overlay, secrets=strong_secrets(overlay))
    env = container_env(strong, container(strong, "api"))
    check_bind(host, split_tokens(env["PCSEARCH_API_TOKENS"]), env["PCSEARCH_DATABASE_URL"])
    if overlay == "external-database":  # strong tokens, the example password: still refused
        weak_url = strong_secrets(overlay) | {"PCSEARCH_DATABASE_URL": env_file(
            K8S / overlay / f"{SECRETS_FILE}.example")["PCSEARCH_DATABASE_URL"]}  # fmt: skip
        weak = render(K8S / overlay, secrets=weak_url)
        env = container_env(weak, container(weak, "api"))
        with pytest.raises(ApiCommandError, match="database password"):
            check_bind(host, split_tokens(env["PCSEARCH_API_TOKENS"]), env["PCSEARCH_DATABASE_URL"])


def strong_secrets(overlay: str) -> dict[str, str]:
    names = env_file(K8S / overlay / f"{SECRETS_FILE}.example")
    return {name: STRONG[name] for name in names}


def run_secrets_check(objects: list[dict], cwd: Path) -> subprocess.CompletedProcess:
    """Postgres's init container, run outside a container with the environment it gets."""
    spec = pod_spec(by_id(objects, "StatefulSet", "pcsearch-postgres"))
    [check] = spec["initContainers"]
    assert check["command"][0] == "python"
    return subprocess.run(
        [sys.executable, *check["command"][1:]],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **container_env(objects, check)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_postgres_starts_only_on_strong_secrets(tmp_path: Path) -> None:
    folder = K8S / "in-cluster-postgres"
    refused = run_secrets_check(render(folder), tmp_path)
    assert refused.returncode == 2 and refused.stderr.count("secrets-check: ") == 2, refused.stderr
    passed = run_secrets_check(render(folder, secrets=strong_secrets(folder.name)), tmp_path)
    assert passed.returncode == 0, passed.stderr


def test_postgres_keeps_its_data_on_a_claim() -> None:
    objects = render(K8S / "in-cluster-postgres")
    postgres = by_id(objects, "StatefulSet", "pcsearch-postgres")
    [claim] = postgres["spec"]["volumeClaimTemplates"]
    [db] = postgres["spec"]["template"]["spec"]["containers"]
    [mount] = db["volumeMounts"]
    assert mount["name"] == claim["metadata"]["name"]
    env = container_env(objects, db)
    assert env["PGDATA"].startswith(mount["mountPath"] + "/"), "initdb needs an empty folder"
    assert "pg_isready" in db["readinessProbe"]["exec"]["command"]
    assert postgres["spec"]["serviceName"] == "pcsearch-postgres"


SECRET_LINE = re.compile(
    r"^\s*#?\s*([A-Z_]*(?:PASSWORD|TOKEN|SECRET|KEY)[A-Z_]*)\s*=\s*(\S*)", re.M
)
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]*)@")
RANDOM_LOOKING = re.compile(r"(?<![\w-])(?=[\w-]*[a-z])(?=[\w-]*[A-Z])(?=[\w-]*\d)[\w-]{20,}")
PLACEHOLDER = re.compile(r"\$\(\w+\)|\$\{?\w+\}?|PASSWORD|TOKEN")
"""A reference to a variable, or the word in capitals that names what goes there."""


def secret_findings(text: str) -> list[str]:
    """What in ``text`` looks like a real secret: a value of a secret's name, or a URL's
    password, that is not the example value or a placeholder; or a random-looking string."""
    found = []
    for name, value in SECRET_LINE.findall(text):
        if value and not is_example(value) and not PLACEHOLDER.fullmatch(value):
            found.append(f"{name}={value[:3]}...")
    for password in URL_PASSWORD.findall(text):
        if not is_example(password) and not PLACEHOLDER.fullmatch(password):
            found.append(f"a URL's password {password[:3]}...")
    found += [f"a random-looking string {m[:3]}..." for m in RANDOM_LOOKING.findall(text)]
    return found


def committed_files() -> list[Path]:
    """The files of deploy/k8s and deploy/slurm that git would commit (not ignored)."""
    git = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(
        [*git, "deploy/k8s", "deploy/slurm"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    return [REPO / name for name in listed if (REPO / name).is_file()]


def test_no_committed_file_holds_a_real_looking_secret() -> None:
    files = committed_files()
    assert {p.name for p in files} >= {
        "kustomization.yaml",
        "secrets.env.example",
        "pcsearch-workers.sbatch",
    }
    findings = {str(p.relative_to(REPO)): secret_findings(p.read_text()) for p in files}
    assert not {name: f for name, f in findings.items() if f}
    for obj in load_docs_all(K8S / "base") + load_docs_all(K8S / "in-cluster-postgres"):
        assert obj["kind"] != "Secret", "Secrets come from the generator, never from a file"
        for c in containers([obj]):
            for item in c.get("env", []):
                if re.search(r"PASSWORD|TOKEN|SECRET", item["name"]):
                    assert "valueFrom" in item, f"{item['name']} must come from the Secret"


def test_the_secret_scan_finds_real_looking_secrets() -> None:
    """The scan above can fail."""
    assert (
        secret_findings("POSTGRES_PASSWORD=change-me\nX=postgresql://u:$(POSTGRES_PASSWORD)@h/d")
        == []
    )
    assert secret_findings("USER:PASSWORD@HOST PCSEARCH_API_TOKENS=CHANGE_ME") == []
    assert len(secret_findings("PCSEARCH_API_TOKENS=hunter2hunter2hunter2")) == 1
    assert len(secret_findings("url: postgresql://pcsearch:s3cret@db/pcsearch")) == 1
    assert len(secret_findings("value: Xq9vT3kLm8Pz2RwY5nB7cD4f")) == 1
    assert len(secret_findings("POSTGRES_PASSWORD=HUNTERTWO")) == 1


def test_secrets_env_stays_out_of_git() -> None:
    for overlay in OVERLAYS:
        path = f"deploy/k8s/{overlay}/{SECRETS_FILE}"
        check = ["git", "check-ignore", "-q"]
        assert subprocess.run([*check, path], cwd=REPO).returncode == 0, f"{path} must be ignored"
        example = subprocess.run([*check, f"{path}.example"], cwd=REPO).returncode
        assert example == 1, f"{path}.example must be committed"
        for name, value in env_file(REPO / f"{path}.example").items():
            if re.search(r"PASSWORD|TOKEN", name):
                assert value == EXAMPLE_VALUE, name
