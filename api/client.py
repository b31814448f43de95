"""A Python client of the pcsearch HTTP API (``pcsearch api``), for notebooks and scripts.

Standard library only (urllib, json, dataclasses), so it runs wherever Python does, without
FastAPI, pydantic, Optuna or JAX; the ``pcsearch submit | status | stop | resume | delete``
commands are built on it. Answers come back as small frozen dataclasses that mirror the
server's rows (:mod:`store.views`) field for field::

    from api.client import Client

    client = Client("http://head:8000", token="...")  # default: $PCSEARCH_API_URL, _TOKEN
    study = client.submit("mlp-digits", "pc-se", n_trials=50, epochs=5)
    done = client.wait(study.name)  # a progress line on stderr until it finishes
    print(done.best_trial.value, done.best_trial.params, client.trials(done.name)[:3])

Every error is a :class:`ClientError`: :class:`RequestRefused` for a 4xx (fix the request;
``.status``, the server's ``.message`` and, for a 422, one :class:`FieldError` per bad
field) and :class:`ServerUnavailable` for a 5xx or a server that cannot be reached (try
again later).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TextIO

from api.client_errors import (
    ClientError,
    FieldError,
    RequestRefused,
    ServerUnavailable,
    WaitTimedOut,
    not_ours,
)
from api.client_rows import (
    BestTrial,
    FailingWorker,
    R,
    SkippingWorker,
    Study,
    StudySummary,
    Trial,
    TrialCounts,
)
from api.paths import STUDIES

__all__ = [
    "BestTrial",
    "Client",
    "ClientError",
    "FailingWorker",
    "FieldError",
    "RequestRefused",
    "ServerUnavailable",
    "SkippingWorker",
    "Study",
    "StudySummary",
    "Trial",
    "TrialCounts",
    "WaitTimedOut",
]
"""The client's public names (errors from :mod:`api.client_errors`, rows from
:mod:`api.client_rows`), importable from here."""

DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE, TOKEN_VARIABLE = "PCSEARCH_API_URL", "PCSEARCH_API_TOKEN"
TIMEOUT_SECONDS = 30
PAGE = 500
"""Items asked for per request when following pages (the API's largest page)."""
FINISHED = ("complete", "stopped", "failing")
"""The study states :meth:`Client.wait` stops at."""
UNAVAILABLE_PATIENCE_SECONDS = 120.0
"""How long :meth:`Client.wait` rides out a server that stopped answering (a restart)."""


# --- the client ------------------------------------------------------------------------------


def configured(variable: str) -> str:
    """A setting as the client reads it: the environment variable, now (a notebook may set
    it after importing). The CLI reads the same variables through store.settings."""
    return os.environ.get(variable, "")


def check_url(url: str) -> str:
    """``url`` without a trailing slash; a :class:`ClientError` unless it is http(s)."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ClientError(
            f"the API URL {url!r} is not an http(s) URL; pass e.g. --api http://HOST:8000 "
            f"(or set {URL_VARIABLE})"
        )
    return url


class Client:
    """One pcsearch API. ``url`` and ``token`` default to ``$PCSEARCH_API_URL`` (else
    http://127.0.0.1:8000) and ``$PCSEARCH_API_TOKEN``; ``token=""`` sends none. Holds no
    connection: each call is one or a few HTTP requests, each bounded by ``timeout``."""

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.url = check_url(url or configured(URL_VARIABLE) or DEFAULT_URL)
        self._token = configured(TOKEN_VARIABLE) if token is None else token
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Client({self.url!r})"  # never the token

    # --- studies

    def submit(self, task: str, algorithm: str, n_trials: int, **options: Any) -> Study:
        """Create a study for the workers to run. ``options`` are the POST body's other
        fields (name, space, sampler, pruner, epochs, batch, seed, objective,
        energy_trace, warm_start; GET /docs lists them); None means the server's default."""
        body = {"task": task, "algorithm": algorithm, "n_trials": n_trials}
        body |= {k: v for k, v in options.items() if v is not None}
        return Study.from_json(self._call("POST", STUDIES, body=body))

    def studies(self, offset: int = 0, limit: int | None = None) -> list[StudySummary]:
        """The studies, oldest first: all from ``offset`` on, or at most ``limit``."""
        return self._pages(STUDIES, StudySummary, offset, limit)

    def study(self, name: str) -> Study:
        """Everything about one study; :class:`RequestRefused` (404) if there is none."""
        return Study.from_json(self._call("GET", _study(name)))

    def trials(
        self,
        name: str,
        state: str | Iterable[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Trial]:
        """The study's trials by number, only those in ``state`` (one state or several:
        running, complete, pruned, fail, waiting) if given; all, or at most ``limit``."""
        states = [state] if isinstance(state, str) else list(state or ())
        query = {"state": states} if states else {}
        return self._pages(f"{_study(name)}/trials", Trial, offset, limit, query)

    def stop(self, name: str) -> Study:
        """Workers take no new trial of the study; running trials finish."""
        return Study.from_json(self._call("POST", f"{_study(name)}/stop"))

    def resume(self, name: str) -> Study:
        """Workers take the study's trials again (a stopped or failing study)."""
        return Study.from_json(self._call("POST", f"{_study(name)}/resume"))

    def delete(self, name: str, force: bool = False) -> None:
        """Delete the study and its trials. Refused (409) while trials run, unless
        ``force``: their workers then drop them."""
        self._call("DELETE", _study(name), query={"force": "true"} if force else None)

    def wait(
        self,
        name: str,
        poll: float = 5,
        timeout: float | None = None,
        progress: bool | Literal["always"] = True,
    ) -> Study:
        """Poll the study every ``poll`` seconds until it is complete, stopped or failing;
        return it. ``progress``: a line on stderr that rewrites itself (``n/N trials, best
        v``) where stderr is a terminal or a notebook; "always" anywhere, False never.
        :class:`WaitTimedOut` after ``timeout`` seconds; a server that stops answering
        for a while (a restart) is waited for, up to two minutes."""
        if poll <= 0:
            raise ClientError(f"poll={poll!r}: give the seconds between looks, e.g. poll=5")
        line = _Line(sys.stderr) if _shows_progress(progress, sys.stderr) else None
        give_up = None if timeout is None else time.monotonic() + timeout
        study = self.study(name)  # a wrong name or URL fails at once
        seen = time.monotonic()
        try:
            while True:
                if line:
                    line.show(progress_text(study))
                if study.state in FINISHED:
                    return study
                left = None if give_up is None else give_up - time.monotonic()
                if left is not None and left <= 0:
                    raise WaitTimedOut(
                        f"study {name!r} is still {study.state} after {timeout:g} s "
                        f"({study.trials.done}/{study.n_trials} trials); wait longer "
                        f"(timeout=...) or look with client.study({name!r})",
                        study,
                    )
                time.sleep(poll if left is None else min(poll, left))
                try:
                    study, seen = self.study(name), time.monotonic()
                except ServerUnavailable as error:
                    if time.monotonic() - seen > UNAVAILABLE_PATIENCE_SECONDS:
                        raise
                    if line:
                        line.show(f"{name}: the server does not answer ({error}); waiting")
        finally:
            if line:
                line.end()

    # --- HTTP

    def _pages(
        self,
        path: str,
        row: type[R],
        offset: int,
        limit: int | None,
        query: dict[str, Any] | None = None,
    ) -> list[R]:
        """Items from ``offset`` on, following the API's pages, until ``limit`` or the end."""
        if limit is not None and limit < 0:
            raise ClientError(f"limit={limit}: give how many items at most, or None for all")
        items: list[R] = []
        while limit is None or len(items) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(items))
            where = {"offset": offset + len(items), "limit": size}
            page = self._call("GET", path, query=(query or {}) | where)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise not_ours(f"a page of {path} without items")
            items += [row.from_json(item) for item in page["items"]]
            if not page["items"] or offset + len(items) >= page.get("total", 0):
                break
        return items

    def _call(
        self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
    ) -> Any:
        """One request; the parsed JSON answer (None for an empty one)."""
        url = self.url + path
        if query:
            url += f"?{urllib.parse.urlencode(query, doseq=True)}"
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            message, errors = _server_message(error.read())
            if error.code < 500:
                raise RequestRefused(error.code, error.reason, message, errors) from None
            raise ServerUnavailable(f"{error.code} {error.reason}: {message}", error.code) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise ServerUnavailable(
                f"cannot reach the API at {self.url} ({reason}); start it with `pcsearch api`, "
                f"or pass --api URL / set {URL_VARIABLE}"
            ) from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ServerUnavailable(
                f"the server at {self.url} did not answer JSON; is it a pcsearch API "
                f"(`pcsearch api`)?"
            ) from None


def progress_text(study: StudySummary) -> str:
    """``name: n/N trials, best v`` and what runs, as :meth:`Client.wait` shows it."""
    best = "-" if study.best_value is None else f"{study.best_value:.4f}"
    t = study.trials
    return (
        f"{study.name}: {t.done}/{study.n_trials} trials, best {best} "
        f"(running {t.running}, failed {t.fail}; {study.state})"
    )


def _study(name: str) -> str:
    return f"{STUDIES}/{urllib.parse.quote(name, safe='')}"


def _server_message(raw: bytes) -> tuple[str, list[FieldError]]:
    """The server's ``detail`` on one line (a string, or one entry per bad field), and the
    bad fields."""
    try:
        detail = json.loads(raw).get("detail")
    except (ValueError, AttributeError):
        text = " ".join(raw.decode(errors="replace").split())
        return (f"(not a pcsearch API answer) {text[:120]}" if text else "(no message)"), []
    if isinstance(detail, list):
        errors = [FieldError.from_detail(e) for e in detail if isinstance(e, dict)]
        return "; ".join(map(str, errors)), errors
    return str(detail), []


def _shows_progress(progress: bool | str, stream: TextIO) -> bool:
    if progress == "always":
        return True
    if not progress:
        return False
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return type(stream).__module__.startswith("ipykernel")  # a notebook renders "\r"


class _Line:
    """One line on a stream that rewrites itself."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.width = stream, 0

    def show(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def end(self) -> None:
        if self.width:
            self.stream.write("\n")
            self.stream.flush()
