"""``pcsearch submit | status | stop | resume | delete``: the HTTP API's client.

Argument parsing and printing only: every request goes through :class:`api.client.Client`
(standard library only, so the client runs anywhere Python does). A server's refusal is
shown as the server's own message on one line: exit 2 for a 4xx (fix the request), 1 for a
5xx or an API that cannot be reached (try again later).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from api.client import (
    DEFAULT_URL,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    Client,
    ServerUnavailable,
    Study,
    StudySummary,
    check_url,
    configured,
)
from pcsearch.errors import PCSearchError

DEFAULT_API = DEFAULT_URL
SERVER_ERROR = 1


def api_url(given: str | None) -> str:
    return check_url(given or _configured("api_url", URL_VARIABLE) or DEFAULT_API)


def _configured(field: str, variable: str) -> str:
    """A field of store.settings.Settings (read once per process, so a bad PCSEARCH_* value
    is reported). The client needs only the standard library: where pydantic-settings is
    missing it reads ``variable`` as :class:`api.client.Client` does."""
    try:
        from store.settings import settings
    except ImportError:
        return configured(variable)
    value = getattr(settings(), field)
    return value if isinstance(value, str) else value.get_secret_value()


def client(args: argparse.Namespace) -> Client:
    """The API of ``--api`` (else the settings'), with the settings' token."""
    return Client(api_url(args.api), token=_configured("api_token", TOKEN_VARIABLE))


def _space_arg(value: str | None) -> Any:
    """A space name as it is, or a .json/.yaml file's content to send inline."""
    if value is None or Path(value).suffix.lower() not in (".json", ".yaml", ".yml"):
        return value
    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PCSearchError(
            f"--space {value}: cannot read the file ({error.strerror or error}); give a space "
            f"name (see `pcsearch spaces`) or a readable .json/.yaml file"
        ) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except ImportError:
        raise PCSearchError("--space: reading YAML needs PyYAML; send a .json file") from None
    except ValueError as error:  # json.JSONDecodeError and yaml.YAMLError are ValueErrors
        raise PCSearchError(f"--space {value} is not valid: {error}") from None


def submit(args: argparse.Namespace) -> int:
    options = {
        "name": args.name,
        "space": _space_arg(args.space),
        "sampler": args.sampler,
        "pruner": args.pruner,
        "epochs": args.epochs,
        "batch": args.batch,
        "seed": args.seed,
        "warm_start": False if args.no_warm_start else None,
    }
    api = client(args)
    study = api.submit(args.task, args.algorithm, args.trials, **options)
    if args.json:
        print(json.dumps(study.to_json(), indent=2))
        return 0
    space = study.spec["space"]
    print(
        f"created study {study.name!r}: {study.n_trials} trials of {study.task} / "
        f"{study.algorithm}, space {space['name']}@{space['version']}, "
        f"sampler {study.spec['sampler']}; workers pick it up\n"
        f"watch it: pcsearch status --api {api.url} {study.name}"
    )
    return 0


def status(args: argparse.Namespace) -> int:
    api = client(args)
    if args.name:
        study = api.study(args.name)
        if args.json:
            print(json.dumps(study.to_json(), indent=2))
            return 0
        print("\n".join([describe(study), *_warm_start_line(api, study)]))
        return 0
    studies = api.studies()
    print(json.dumps([s.to_json() for s in studies], indent=2) if args.json else table(studies))
    return 0


def table(studies: list[StudySummary]) -> str:
    if not studies:
        return "no studies yet; create one with `pcsearch submit`"
    rows = [("NAME", "STATE", "DONE", "RUNNING", "FAILED", "BEST")]
    for s in studies:
        t = s.trials
        rows.append(
            (
                s.name,
                s.state,
                f"{t.done}/{s.n_trials}",
                str(t.running),
                str(t.fail),
                _metric(s.best_value),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def describe(study: Study | Mapping[str, Any]) -> str:
    """One study (as the client reads it, or GET /api/v1/studies/{name}'s JSON): what it
    is, a progress line, the best trial and any workers that gave up."""
    if not isinstance(study, Study):
        study = Study.from_json(study)
    t, best = study.trials, study.best_trial
    lines = [
        f"study {study.name!r}: {study.task} / {study.algorithm}, {study.state}",
        f"trials {t.done}/{study.n_trials} done (complete {t.complete}, pruned {t.pruned}), "
        f"running {t.running}, failed {t.fail}"
        + (f" | best {_metric(best.value)} (trial {best.number})" if best else ""),
    ]
    if best:
        lines.append("best parameters:")
        lines += [f"  {k} = {_number(v)}" for k, v in best.params.items()]
    for w in study.failing_workers:
        count = f", {w.failures} failures" if w.failures is not None else ""
        lines.append(f"worker {w.worker} gave up{count}: {w.reason or 'no reason given'}")
    for s in study.skipping_workers:
        when = f" at {s.at}" if s.at else ""
        looks = (
            f", looks again {s.retry_after_seconds} s later"
            if s.retry_after_seconds is not None
            else ""
        )
        lines.append(f"worker {s.worker} skips it{when}{looks}: {s.reason or 'no reason given'}")
    return "\n".join(lines)


def _warm_start_line(api: Client, study: Study) -> list[str]:
    """The study's trial of the paper's values, if it has one (queued first: trial 0)."""
    if not (study.spec or {}).get("warm_start", False):
        return []
    first = next(iter(api.trials(study.name, limit=1)), None)
    if first is None or not first.warm_start:
        return []
    value = f", value {_metric(first.value)}" if first.value is not None else ""
    return [
        f"warm start: trial {first.number} runs the {first.warm_start}'s best values "
        f"({first.state}{value})"
    ]


def _metric(value: float | None) -> str:
    """A test metric as ``pcsearch search`` prints it: four decimals."""
    return "-" if value is None else f"{value:.4f}"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _action(verb: str, done: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        study = getattr(client(args), verb)(args.name)
        print(f"study {study.name!r} {done} (state {study.state})")
        return 0

    return run


def delete(args: argparse.Namespace) -> int:
    """Delete a study and its trials, once the person at the terminal says yes (or --yes)."""
    api = client(args)
    if not args.yes:
        if not sys.stdin.isatty():
            raise PCSearchError(
                f"not deleting study {args.name!r}: there is no terminal to confirm on; "
                f"pass --yes to delete it and its trials"
            )
        study = api.study(args.name)  # a wrong name fails before the question
        t = study.trials
        question = (
            f"delete study {study.name!r} ({study.state}, {t.done}/{study.n_trials} trials "
            f"done, {t.running} running) and all its trials? [y/N] "
        )
        try:
            answer = input(question)
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print(f"study {study.name!r} not deleted")
            return 0
    api.delete(args.name, force=args.force)
    dropped = " (workers drop its running trials)" if args.force else ""
    print(f"deleted study {args.name!r} and its trials{dropped}")
    return 0


def _shell(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A server that failed or cannot be reached: one line and exit 1, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ServerUnavailable as error:
            print(f"pcsearch {args.command}: error: {error}", file=sys.stderr)
            return SERVER_ERROR

    return run


def register(commands: argparse._SubParsersAction) -> None:
    def add(name: str, help: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        p = commands.add_parser(name, help=help)
        p.add_argument("--api", help=f"the API's URL (default ${URL_VARIABLE}, else {DEFAULT_API})")
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

    p = add("delete", "delete a study and its trials (asks first on a terminal)", delete)
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--force",
        action="store_true",
        help="delete even while trials run (their workers drop them)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
