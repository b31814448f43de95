"""The root exception of the study store."""

from pcsearch.errors import PCSearchError


class StoreError(PCSearchError):
    """A study, its config, a storage URL or a service setting that cannot be used; the
    message says the fix."""
