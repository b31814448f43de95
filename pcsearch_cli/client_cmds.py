"""``pcsearch submit | status | stop | resume``: the HTTP API's client.

Standard library only (urllib), so the client runs anywhere Python does. A server's
refusal is shown as the server's own message on one line: exit 2 for a 4xx (fix the
request), 1 for a 5xx or an API that cannot be reached (try again later).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.paths import STUDIES
from pcsearch.errors import PCSearchError

DEFAULT_API = "http://127.0.0.1:8000"
PREFIX = STUDIES
TIMEOUT_SECONDS = 30
SERVER_ERROR = 1


class RequestRefused(PCSearchError):
    """The API answered 4xx: the request needs fixing (exit 2)."""


class ServerProblem(Exception):
    """The API answered 5xx or could not be reached (exit 1)."""


def api_url(given: str | None) -> str:
    url = (given or _configured("api_url", "PCSEARCH_API_URL") or DEFAULT_API).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise RequestRefused(
            f"the API URL {url!r} is not an http(s) URL; pass e.g. --api http://HOST:8000 "
            f"(or set PCSEARCH_API_URL)"
        )
    return url


def _configured(field: str, variable: str) -> str:
    """A field of store.settings.Settings (read once per process). The client needs only the
    standard library: where pydantic-settings is missing it reads ``variable`` itself."""
    try:
        from store.settings import settings
    except ImportError:
        return os.environ.get(variable, "")
    value = getattr(settings(), field)
    return value if isinstance(value, str) else value.get_secret_value()


def call(api: str, method: str, path: str, body: Any = None, query: dict | None = None) -> Any:
    """One request; the parsed JSON answer (None for an empty one)."""
    url = api + path + (f"?{urllib.parse.urlencode(query, doseq=True)}" if query else "")
    headers = {"Accept": "application/json"}
    token = _configured("api_token", "PCSEARCH_API_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        message = f"{error.code} {error.reason}: {_server_message(error.read())}"
        if error.code < 500:
            raise RequestRefused(message) from None
        raise ServerProblem(message) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise ServerProblem(
            f"cannot reach the API at {api} ({reason}); start it with `pcsearch api`, or pass "
            f"--api URL / set PCSEARCH_API_URL"
        ) from None
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ServerProblem(
            f"the server at {api} did not answer JSON; is it a pcsearch API (`pcsearch api`)?"
        ) from None


def _server_message(raw: bytes) -> str:
    """The server's ``detail`` on one line: a string, or one entry per bad field."""
    try:
        detail = json.loads(raw).get("detail")
    except (ValueError, AttributeError):
        text = " ".join(raw.decode(errors="replace").split())
        return f"(not a pcsearch API answer) {text[:120]}" if text else "(no message)"
    if isinstance(detail, list):
        return "; ".join(_field_error(e) for e in detail if isinstance(e, dict))
    return str(detail)


def _field_error(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", []) if p not in ("body", "query", "path")]
    text = f"{'.'.join(loc) or 'request'}: {error.get('msg', '')}"
    value = error.get("input")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text += f" (got {value!r})"
    return text


def _space_arg(value: str | None) -> Any:
    """A space name as it is, or a .json/.yaml file's content to send inline."""
    if value is None or Path(value).suffix.lower() not in (".json", ".yaml", ".yml"):
        return value
    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RequestRefused(
            f"--space {value}: cannot read the file ({error.strerror or error}); give a space "
            f"name (see `pcsearch spaces`) or a readable .json/.yaml file"
        ) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except ImportError:
        raise RequestRefused("--space: reading YAML needs PyYAML; send a .json file") from None
    except ValueError as error:  # json.JSONDecodeError and yaml.YAMLError are ValueErrors
        raise RequestRefused(f"--space {value} is not valid: {error}") from None


def submit(args: argparse.Namespace) -> int:
    body = {
        "name": args.name,
        "task": args.task,
        "algorithm": args.algorithm,
        "n_trials": args.trials,
        "space": _space_arg(args.space),
        "sampler": args.sampler,
        "pruner": args.pruner,
        "epochs": args.epochs,
        "batch": args.batch,
        "seed": args.seed,
        "warm_start": False if args.no_warm_start else None,
    }
    api = api_url(args.api)
    study = call(api, "POST", PREFIX, {k: v for k, v in body.items() if v is not None})
    if args.json:
        print(json.dumps(study, indent=2))
        return 0
    spec = study["spec"]
    print(
        f"created study {study['name']!r}: {study['n_trials']} trials of {study['task']} / "
        f"{study['algorithm']}, space {spec['space']['name']}@{spec['space']['version']}, "
        f"sampler {spec['sampler']}; workers pick it up\n"
        f"watch it: pcsearch status --api {api} {study['name']}"
    )
    return 0


def status(args: argparse.Namespace) -> int:
    api = api_url(args.api)
    if args.name:
        study = call(api, "GET", f"{PREFIX}/{_quote(args.name)}")
        if args.json:
            print(json.dumps(study, indent=2))
            return 0
        print("\n".join([describe(study), *_warm_start_line(api, study)]))
        return 0
    studies, offset = [], 0
    while True:
        page = call(api, "GET", PREFIX, query={"offset": offset, "limit": 500})
        studies += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    print(json.dumps(studies, indent=2) if args.json else table(studies))
    return 0


def table(studies: list[dict[str, Any]]) -> str:
    if not studies:
        return "no studies yet; create one with `pcsearch submit`"
    rows = [("NAME", "STATE", "DONE", "RUNNING", "FAILED", "BEST")]
    for s in studies:
        t = s["trials"]
        rows.append(
            (
                s["name"],
                s["state"],
                f"{t['complete'] + t['pruned']}/{s['n_trials']}",
                str(t["running"]),
                str(t["fail"]),
                _metric(s["best_value"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def describe(study: dict[str, Any]) -> str:
    """One study: what it is, a progress line, the best trial and any workers that gave up."""
    t, best = study["trials"], study.get("best_trial")
    lines = [
        f"study {study['name']!r}: {study['task']} / {study['algorithm']}, {study['state']}",
        f"trials {t['complete'] + t['pruned']}/{study['n_trials']} done (complete "
        f"{t['complete']}, pruned {t['pruned']}), running {t['running']}, failed {t['fail']}"
        + (f" | best {_metric(best['value'])} (trial {best['number']})" if best else ""),
    ]
    if best:
        lines.append("best parameters:")
        lines += [f"  {k} = {_number(v)}" for k, v in best["params"].items()]
    for w in study.get("failing_workers") or []:
        count = f", {w['failures']} failures" if w.get("failures") is not None else ""
        lines.append(f"worker {w['worker']} gave up{count}: {w.get('reason') or 'no reason given'}")
    for w in study.get("skipping_workers") or []:
        when = f" at {w['at']}" if w.get("at") else ""
        again = w.get("retry_after_seconds")
        looks = f", looks again {again} s later" if again is not None else ""
        lines.append(
            f"worker {w['worker']} skips it{when}{looks}: {w.get('reason') or 'no reason given'}"
        )
    return "\n".join(lines)


def _warm_start_line(api: str, study: dict[str, Any]) -> list[str]:
    """The study's trial of the paper's values, if it has one (queued first: trial 0)."""
    if not (study.get("spec") or {}).get("warm_start", False):
        return []
    page = call(api, "GET", f"{PREFIX}/{_quote(study['name'])}/trials", query={"limit": 1})
    first = next(iter(page.get("items") or []), None)
    if first is None or not first.get("warm_start"):
        return []
    value = f", value {_metric(first['value'])}" if first.get("value") is not None else ""
    return [
        f"warm start: trial {first['number']} runs the {first['warm_start']}'s best values "
        f"({first['state']}{value})"
    ]


def _metric(value: float | None) -> str:
    """A test metric as ``pcsearch search`` prints it: four decimals."""
    return "-" if value is None else f"{value:.4f}"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _action(verb: str, done: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        study = call(api_url(args.api), "POST", f"{PREFIX}/{_quote(args.name)}/{verb}")
        print(f"study {study['name']!r} {done} (state {study['state']})")
        return 0

    return run


def _shell(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A server that failed or cannot be reached: one line and exit 1, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ServerProblem as error:
            print(f"pcsearch {args.command}: error: {error}", file=sys.stderr)
            return SERVER_ERROR

    return run


def register(commands: argparse._SubParsersAction) -> None:
    def add(name: str, help: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        p = commands.add_parser(name, help=help)
        p.add_argument(
            "--api", help=f"the API's URL (default $PCSEARCH_API_URL, else {DEFAULT_API})"
        )
        p.set_defaults(handler=_shell(handler))
        return p

    p = add("submit", "create a study on a pcsearch API (token: $PCSEARCH_API_TOKEN)", submit)
    p.add_argument("--task", required=True)
    p.add_argument("--algorithm", required=True)
    p.add_argument("--trials", type=int, required=True, help="trials to finish, in total")
    p.add_argument("--name", help="study name (default TASK.ALGORITHM-<random>)")
    p.add_argument("--space", help="a space name, or a .json/.yaml file sent inline")
    p.add_argument("--sampler", help="tpe, random, grid or cmaes (default tpe; grid for grids)")
    p.add_argument("--pruner", help="median (default), halving, hyperband or none")
    p.add_argument("--epochs", type=int, help="epochs per trial (default: the task's)")
    p.add_argument("--batch", type=int, help="trials a worker trains together (default 1)")
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--no-warm-start",
        action="store_true",
        help="do not start with a trial of the paper's best values (default: the first trial "
        "runs them, where the paper gives them)",
    )
    p.add_argument("--json", action="store_true", help="print the created study as JSON")

    p = add("status", "the studies on a pcsearch API, or one study's progress", status)
    p.add_argument("name", nargs="?", metavar="NAME", help="one study (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    for verb, done, help in (
        ("stop", "stopped: workers take no new trials; running ones finish", "stop a study"),
        ("resume", "resumed", "let workers take a stopped or failing study's trials again"),
    ):
        add(verb, help, _action(verb, done)).add_argument("name", metavar="NAME")
