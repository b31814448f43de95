"""``pcsearch dashboard``: optuna-dashboard, in this process, on pcsearch's storage.

Running it in-process, not as ``optuna-dashboard URL``, lets the database URL come from
``$PCSEARCH_DATABASE_URL`` like in every other command, so its password need never be on a
command line or in ``ps`` (docker-compose.yml passes it that way).

optuna-dashboard has no login, and anyone who reaches it can delete and rename studies
(bypassing the API's rules). So it listens on a loopback address unless told that an
authenticating proxy stands in front, and it answers only requests whose ``Host`` header
names it: a web page elsewhere can point its own domain at 127.0.0.1 (DNS rebinding) and
have a browser on the same machine, or at the far end of an SSH tunnel, read and act on
the dashboard; such requests carry that foreign name and are refused.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import signal
import socket
import sys
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from types import FrameType
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from pcsearch.errors import PCSearchError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
"""Host names every dashboard answers, on any port (an SSH tunnel may use another local
port): a browser sends them only to this machine, never to a rebinding attacker's page."""
PROXY_FLAG = "--behind-auth-proxy"
HOST_PATTERN = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?")


class _Stop(BaseException):
    """Raised in the main thread by SIGTERM or SIGINT to leave ``serve_forever``.

    Not an ``Exception``: socketserver catches and logs every ``Exception`` raised while it
    hands a request to its thread, so a signal arriving in that moment was swallowed and
    the dashboard went on serving."""


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per request (the page polls while plots load); a stop never waits for
    a request stuck on a slow database."""

    daemon_threads = True
    block_on_close = False


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    """Logs failed requests only: the page polls the API every few seconds."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).isdigit() and int(code) >= 400:
            super().log_request(code, size)


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


# --- who may reach it --------------------------------------------------------------------------


def is_local(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, port: int, behind_proxy: bool) -> None:
    """Refuse to listen where others can reach a dashboard that has no login."""
    if is_local(host) or behind_proxy:
        return
    raise PCSearchError(
        f"--host {host} is not a local address, and optuna-dashboard has no login: anyone "
        f"who reaches it can delete and rename studies, bypassing the API's rules; keep "
        f"--host {DEFAULT_HOST} and use an SSH tunnel (ssh -L {port}:localhost:{port} "
        f"SERVER), or put a reverse proxy that authenticates in front and add {PROXY_FLAG}"
    )


def split_host(value: str) -> tuple[str, str]:
    """``name:port`` of a Host header (``[v6]:port`` too) as (name, port); a malformed
    value is all name (and then matches nothing)."""
    if value.startswith("["):
        name, _, rest = value.partition("]")
        if rest == "" or (rest.startswith(":") and rest[1:].isdigit()):
            return name + "]", rest[1:]
        return value, ""
    name, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, port
    return value, ""


def allowed_hosts(bind: str, extra: Iterable[str]) -> list[str]:
    """What the dashboard answers: the loopback names, the address it is bound to when
    that is one IP (a literal address cannot be rebound), and the ``--allowed-host`` values."""
    found = list(LOOPBACK_NAMES)
    try:
        address = ipaddress.ip_address(bind.strip("[]"))
    except ValueError:
        address = None
    if address is not None and not address.is_unspecified:
        found.append(f"[{address}]" if address.version == 6 else str(address))
    for value in extra:
        host = value.strip().lower()
        if not HOST_PATTERN.fullmatch(host):
            raise PCSearchError(
                f"--allowed-host {value!r} is not a host name; give NAME or NAME:PORT as the "
                f"browser's address bar shows it (no scheme, no path), e.g. dash.example.org"
            )
        found.append(host)
    return list(dict.fromkeys(found))


class HostCheck:
    """WSGI middleware: requests whose ``Host`` is not one of ``allowed`` get 403 (400
    without a Host), before optuna-dashboard sees them. An entry without a port allows
    that name on any port; with one, only there."""

    def __init__(self, app: WSGIApplication, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = list(allowed)
        self._names = {a for a in self.allowed if not split_host(a)[1]}
        self._exact = set(self.allowed) - self._names

    def allows(self, host: str) -> bool:
        host = host.strip().lower()
        return host in self._exact or split_host(host)[0] in self._names

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST", "")
        if not host:
            return _refuse(start_response, "400 Bad Request", "a Host header is required")
        if not self.allows(host):
            return _refuse(
                start_response,
                "403 Forbidden",
                f"this dashboard does not answer to Host {host!r}; it answers "
                f"{', '.join(self.allowed)}; start it with --allowed-host NAME to add a name",
            )
        return self.app(environ, start_response)


def _refuse(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


# --- serving ----------------------------------------------------------------------------------


def _app(url: str) -> WSGIApplication:
    """The dashboard's WSGI app on the plain Optuna storage behind ``url``.

    The plain storage, not the retrying wrapper the workers use: a page request during a
    database outage should fail now (the page polls again) rather than wait it out.
    """
    from optuna_dashboard import wsgi

    from store.errors import StoreError
    from store.storage import connection_problem, open_storage, redact

    storage = open_storage(url, must_exist=True).inner
    try:
        storage.get_all_studies()
    except Exception as error:
        problem = connection_problem(error, url) or type(error).__name__
        raise StoreError(f"cannot read storage {redact(url)}: {problem}") from None
    return wsgi(storage)


def run(args: argparse.Namespace) -> int:
    from store.storage import redact, storage_url

    bind = args.host.strip("[]") if args.host.startswith("[") else args.host
    check_bind(bind, args.port, args.behind_auth_proxy)
    allowed = allowed_hosts(bind, args.allowed_host)
    url = storage_url(args.storage, default="pcsearch.journal")
    app = HostCheck(_app(url), allowed)
    try:
        server = make_server(
            bind,
            args.port,
            app,
            server_class=_Server6 if ":" in bind else _Server,
            handler_class=_QuietHandler,
        )
    except OSError as error:
        raise PCSearchError(
            f"cannot listen on {args.host}:{args.port}: {error.strerror or error}; "
            f"choose another --port or --host"
        ) from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"optuna-dashboard on {redact(url)}", flush=True)
        print(f"listening on http://{shown}:{port}/dashboard (Ctrl-C stops)", flush=True)
        print(f"answering Host: {', '.join(allowed)} (without a port: any port)", flush=True)
        if not is_local(bind):
            print(
                f"no login here ({PROXY_FLAG}): whatever stands in front must authenticate",
                file=sys.stderr,
                flush=True,
            )
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
        help=f"address to listen on (default: {DEFAULT_HOST}); a non-local one is refused "
        f"without {PROXY_FLAG}: the dashboard has no login, so reach it through an SSH tunnel",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    p.add_argument(
        PROXY_FLAG,
        action="store_true",
        help="allow a non-local --host: a reverse proxy that authenticates stands in front "
        "(or, in docker-compose.yml, Docker publishes the port on the host's 127.0.0.1 only)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="also answer requests for this Host (repeatable), e.g. the proxy's public name; "
        f"always answered: {', '.join(LOOPBACK_NAMES)}",
    )
    p.set_defaults(handler=run)
