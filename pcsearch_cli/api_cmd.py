"""``pcsearch api``: serve the HTTP API on a storage (uvicorn)."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from pcsearch.errors import PCSearchError


class ApiCommandError(PCSearchError):
    """A flag or setting ``pcsearch api`` cannot start with."""


def check_bind(host: str, tokens: tuple[str, ...], url: str) -> None:
    """Beyond localhost the tokens are all that guards the studies: refuse none, a short
    one, or the example value of .env.example; and refuse the example database password
    (it means .env.example was used as is). On localhost anything goes (tests, laptops)."""
    from api.secret_check import EXAMPLE_VALUE, MAKE_ONE, MIN_CHARS, is_example, token_problems
    from api.settings import is_local_host

    if is_local_host(host):
        return
    if not tokens:
        raise ApiCommandError(
            f"refusing to serve on --host {host} without PCSEARCH_API_TOKENS: anyone who can "
            f"reach the port could create and delete studies; set PCSEARCH_API_TOKENS=<token>"
            f"[,<token>...] (make one with: {MAKE_ONE}) or serve on --host 127.0.0.1"
        )
    weak = token_problems(tokens)
    if weak:
        raise ApiCommandError(
            f"refusing to serve on --host {host} with a weak PCSEARCH_API_TOKENS: "
            f"{'; '.join(weak)}; each token needs {MIN_CHARS} characters or more and must not "
            f"be {EXAMPLE_VALUE!r}: make one with: {MAKE_ONE} (or serve on --host 127.0.0.1)"
        )
    if is_example(_password(url) or ""):
        raise ApiCommandError(
            f"refusing to serve on --host {host}: the database password in the storage URL is "
            f"the example value {EXAMPLE_VALUE!r} of .env.example; give the database role a "
            f"new password (ALTER ROLE <user> PASSWORD '<new>') and put it in the URL: make "
            f"one with: {MAKE_ONE} (or serve on --host 127.0.0.1)"
        )


def _password(url: str) -> str | None:
    """The password of a database URL; None for a journal file or a URL without one."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # a journal path, not a URL
        return None


def check_storage(url: str) -> None:
    """Refuse a URL that can never work now, instead of answering 503 forever."""
    from sqlalchemy.engine import make_url

    from store.storage import is_rdb, journal_path, open_storage

    if journal_path(url) is not None:
        open_storage(url)  # a local file: cheap, and names the problem
        return
    if not is_rdb(url):
        raise ApiCommandError(
            "the storage URL is not supported; use postgresql+psycopg2://USER@HOST/DB "
            "(or a .journal file for local use)"
        )
    try:
        make_url(url)
    except Exception:
        raise ApiCommandError(
            "the storage URL cannot be parsed; write it as postgresql+psycopg2://USER:PASSWORD"
            "@HOST:PORT/DB"
        ) from None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.logs import log_config
    from api.main import create_app
    from api.settings import tokens
    from store.settings import load_settings
    from store.storage import redact, storage_url

    if not 1 <= args.port <= 65535:
        raise ApiCommandError(f"--port {args.port} is not a port; use 1 to 65535, e.g. 8000")
    if args.workers is not None and args.workers < 1:
        raise ApiCommandError(f"--workers {args.workers} must be at least 1")
    url = storage_url(args.storage)
    settings = load_settings(database_url=url)
    check_bind(args.host, tokens(settings), url)  # first: a refused start leaves no file behind
    check_storage(url)
    workers = args.workers or settings.api_workers
    if not tokens(settings):
        auth = "no PCSEARCH_API_TOKENS: no authentication (local development only)"
    elif settings.api_public_read:
        auth = "changes need a bearer token; reads are public"
    else:
        auth = "every /api/v1 route needs a bearer token"
    print(
        f"pcsearch api: serving {redact(url)} on http://{args.host}:{args.port} (docs at "
        f"/docs) with {workers} process(es); {auth}",
        file=sys.stderr,
        flush=True,
    )
    options = {
        "host": args.host,
        "port": args.port,
        "log_config": log_config(url),
        "access_log": not args.no_access_log,
        "timeout_graceful_shutdown": 10,
    }
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
    # handler that was there before it; make that one end the process as a success.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stopped)
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
    else:  # each process builds its app from the environment
        os.environ["PCSEARCH_DATABASE_URL"] = url
        uvicorn.run("api.main:create_app", factory=True, workers=workers, **options)
    return 0


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("api", help="serve the HTTP API (submit, watch and stop studies)")
    p.add_argument(
        "--storage", help="postgresql+psycopg2://USER@HOST/DB (default $PCSEARCH_DATABASE_URL)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--workers", type=int, help="server processes (default $PCSEARCH_API_WORKERS, else 1)"
    )
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(handler=run)
