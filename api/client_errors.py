"""The errors of the API's Python client (:mod:`api.client`): one family, ``ClientError``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pcsearch.errors import PCSearchError

if TYPE_CHECKING:
    from api.client_rows import Study


class ClientError(PCSearchError):
    """Root of the client's errors; the message says what went wrong and the fix."""


@dataclass(frozen=True)
class FieldError:
    """One bad field of a refused request (a 422 answer's ``detail`` entry)."""

    field: str
    """Dotted path of the field (``epochs``, ``space.params.T``), or ``request``."""
    message: str
    input: Any = None
    """The value the server was given, where it says."""

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}"
        if isinstance(self.input, str | int | float) and not isinstance(self.input, bool):
            text += f" (got {self.input!r})"
        return text

    @classmethod
    def from_detail(cls, entry: Mapping[str, Any]) -> FieldError:
        loc = [str(p) for p in entry.get("loc", []) if p not in ("body", "query", "path")]
        return cls(".".join(loc) or "request", str(entry.get("msg", "")), entry.get("input"))


class RequestRefused(ClientError):
    """The API answered 4xx: the request needs fixing (a bad field, no token, no such study,
    a taken name...)."""

    def __init__(
        self, status: int, reason: str, message: str, errors: Iterable[FieldError] = ()
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        """The server's own explanation, on one line."""
        self.errors = list(errors)
        """The bad fields of a 422, one each; empty for other refusals."""


class ServerUnavailable(ClientError):
    """The API answered 5xx, could not be reached, or did not answer as a pcsearch API:
    try again later, or check the URL."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status of a 5xx; None where no answer came."""


class WaitTimedOut(ClientError, TimeoutError):
    """:meth:`Client.wait` gave up before the study finished."""

    def __init__(self, message: str, study: Study) -> None:
        super().__init__(message)
        self.study = study
        """The study as last seen."""


def not_ours(what: str) -> ServerUnavailable:
    return ServerUnavailable(
        f"the server answered {what}; is it a pcsearch API (`pcsearch api`) of this version?"
    )
