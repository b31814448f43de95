"""The root exception of the api package."""

from __future__ import annotations

from pcsearch.errors import PCSearchError


class ApiError(PCSearchError):
    """A setting or request the API cannot serve; the message says the fix."""


class Unavailable(ApiError):
    """The storage cannot be reached (or is not ready) now: HTTP 503."""
