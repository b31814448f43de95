"""Lists of names as dicts keyed by name, and the check that ties two of them together.

Each kind of name (algorithm, model, data set, mode) has one description here in the
catalogue (no JAX) and one registry beside the code that builds it (``BUILDERS``,
``LOADERS``, ``SETUPS``). The registry calls ``check_registry`` when it is imported, so
a name added to one list but not the other fails at once, saying which and where.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from pcsearch.errors import RegistryError


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def by_name(entries: Iterable[N], kind: str) -> dict[str, N]:
    """``entries`` keyed by their name, in order; a name given twice is an error (a dict
    comprehension would keep the last one silently)."""
    table: dict[str, N] = {}
    for entry in entries:
        if entry.name in table:
            raise RegistryError(f"{kind} {entry.name!r} is listed twice; keep one entry")
        table[entry.name] = entry
    return table


def check_registry(
    kind: str,
    registry: Iterable[str],
    catalogue: Iterable[str],
    *,
    registry_at: str,
    catalogue_at: str,
) -> None:
    """Refuse a registry whose names are not exactly the catalogue's, naming each stray."""
    registered, described = list(registry), list(catalogue)
    missing = [n for n in described if n not in registered]
    extra = [n for n in registered if n not in described]
    problems = []
    if missing:
        problems.append(
            f"{', '.join(map(repr, missing))} described in {catalogue_at} but not in "
            f"{registry_at}: add an entry there"
        )
    if extra:
        problems.append(
            f"{', '.join(map(repr, extra))} in {registry_at} but not described in "
            f"{catalogue_at}: add a description there"
        )
    if problems:
        raise RegistryError(f"the {kind} registries disagree: " + "; ".join(problems))
