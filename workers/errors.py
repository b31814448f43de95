"""The root exception of the workers package."""

from pcsearch.errors import PCSearchError


class WorkerError(PCSearchError):
    """A study, storage or worker setting that cannot be used; the message says the fix."""
