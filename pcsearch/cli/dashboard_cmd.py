"""``pcsearch dashboard``: optuna-dashboard, in this process, on pcsearch's storage.

Running it in-process, not as ``optuna-dashboard URL``, lets the database URL come from
``$PCSEARCH_DATABASE_URL`` like in every other command, so its password need never be on a
command line or in ``ps`` (docker-compose.yml passes it that way).
"""

from __future__ import annotations

import argparse
import signal
import sys
from socketserver import ThreadingMixIn
from types import FrameType
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

from pcsearch.errors import PCSearchError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080


class _Stop(Exception):
    """Raised in the main thread by SIGTERM or SIGINT to leave ``serve_forever``."""


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per request (the page polls while plots load); a stop never waits for
    a request stuck on a slow database."""

    daemon_threads = True
    block_on_close = False


class _QuietHandler(WSGIRequestHandler):
    """Logs failed requests only: the page polls the API every few seconds."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).isdigit() and int(code) >= 400:
            super().log_request(code, size)


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _app(url: str) -> WSGIApplication:
    """The dashboard's WSGI app on the plain Optuna storage behind ``url``.

    The plain storage, not the retrying wrapper the workers use: a page request during a
    database outage should fail now (the page polls again) rather than wait it out.
    """
    from optuna_dashboard import wsgi

    from workers.errors import WorkerError
    from workers.storage import connection_problem, open_storage, redact

    storage = open_storage(url, must_exist=True).inner
    try:
        storage.get_all_studies()
    except Exception as error:
        problem = connection_problem(error, url) or type(error).__name__
        raise WorkerError(f"cannot read storage {redact(url)}: {problem}") from None
    return wsgi(storage)


def run(args: argparse.Namespace) -> int:
    from workers.storage import redact, storage_url

    url = storage_url(args.storage, default="pcsearch.journal")
    app = _app(url)
    try:
        server = make_server(
            args.host, args.port, app, server_class=_Server, handler_class=_QuietHandler
        )
    except OSError as error:
        raise PCSearchError(
            f"cannot listen on {args.host}:{args.port}: {error.strerror or error}; "
            f"choose another --port or --host"
        ) from None
    host, port = server.server_address[:2]
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"optuna-dashboard on {redact(url)}", flush=True)
        print(f"listening on http://{host}:{port}/dashboard (Ctrl-C stops)", flush=True)
        server.serve_forever()
    except _Stop as stopped:
        print(f"dashboard stopped by {stopped}", file=sys.stderr)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.server_close()
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "dashboard", help="serve optuna-dashboard on the studies' storage (no authentication)"
    )
    p.add_argument(
        "--storage",
        help="postgresql+psycopg2://..., FILE.journal "
        "(default: $PCSEARCH_DATABASE_URL, else pcsearch.journal)",
    )
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}; the dashboard has no login, "
        f"so expose it through an SSH tunnel or an authenticating proxy)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    p.set_defaults(handler=run)
