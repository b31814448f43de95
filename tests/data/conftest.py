"""Fixtures of the data tests: being offline, and a local mirror to download from."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

Mirror = tuple[str, Path]

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                   "ALL_PROXY")  # fmt: skip


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 must be reached directly, whatever this machine's proxy settings."""
    for var in PROXY_VARIABLES:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def refused_url() -> str:
    """A local port that nothing listens on: connecting fails at once, like being offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    """A local HTTP server; yields its base URL and the folder it serves."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
