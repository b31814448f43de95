"""The one error type of search_spaces, under pcsearch's root so callers catch one family."""

from __future__ import annotations

from pcsearch.errors import PCSearchError


class SearchSpaceError(PCSearchError, ValueError):
    """A search space that is malformed or does not fit a task/algorithm; the message says why
    and how to fix it, naming the parameter and the offending value."""
