"""The one root exception of the pcsearch package."""


class PCSearchError(Exception):
    """Base class for every error pcsearch raises on purpose; the message says how to fix it."""


class UnknownNameError(PCSearchError, KeyError):
    """A task, algorithm or hyperparameter name that does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidValueError(PCSearchError, ValueError):
    """A hyperparameter value of the wrong type or outside its range."""


class DataUnavailableError(PCSearchError):
    """A data set is not on disk and cannot be downloaded."""


class DataFormatError(PCSearchError):
    """A data file exists but is truncated or not in the expected format."""


class UnsupportedError(PCSearchError, ValueError):
    """A valid name used where it does not apply (an algorithm a task's mode cannot run)."""


class RegistryError(PCSearchError):
    """Two lists of one kind of name disagree (a builder without a catalogue entry, or the
    reverse): a mistake in pcsearch itself, found when the module is imported."""
