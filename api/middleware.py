"""Pure ASGI middleware: a bound on request bodies, and a last line for unexpected errors."""

from __future__ import annotations

import logging
import traceback

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cache import ReadCache, slot
from api.deps import read_allowed
from store.settings import Settings
from store.storage import scrub

log = logging.getLogger("pcsearch.api")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than {limit} bytes (PCSEARCH_API_MAX_BODY_BYTES); send "
            f"less, e.g. a space name instead of an inline space",
        )


class BodyLimit:
    """413 for a body over ``limit`` bytes: at once by Content-Length, else while it streams
    in (a chunked body has no length to trust)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _reply(BodyTooLarge(self.limit), scope, receive, send)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except BodyTooLarge as error:
            if started:
                raise
            await _reply(error, scope, receive, send)


class LastResort:
    """A 500 with a JSON body for any error nobody handled, logged without credentials (the
    server would otherwise print the raw traceback)."""

    def __init__(self, app: ASGIApp, url: str | None) -> None:
        self.app = app
        self.url = url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            text = scrub(traceback.format_exc(), self.url)
            log.error("unexpected error in %s %s\n%s", scope["method"], scope["path"], text)
            if not started:
                body = {"detail": "internal error; the server log has the details"}
                await JSONResponse(body, 500)(scope, receive, send)


class CachedReads:
    """Serve a fresh cached answer of a study read before routing: most reads under load
    are such answers, and skipping FastAPI's routing and dependencies for them saves most
    of their cost. Anything else (a miss, a request not allowed to read) goes on to the
    app, which answers it in full (and fills the cache)."""

    def __init__(self, app: ASGIApp, cache: ReadCache, settings: Settings) -> None:
        self.app = app
        self.cache = cache
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = slot(scope["path"], scope["query_string"])
            body = self.cache.peek(*found) if found is not None else None
            if body is not None and read_allowed(self.settings, _header(scope, b"authorization")):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reply(error: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": error.detail}, error.status_code, {"Connection": "close"})
    await response(scope, receive, send)
