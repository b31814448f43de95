"""The paper's search spaces, read from the JSON files shipped in ``search_spaces/paper``.

File names are ``<name>.v<version>.json``; several versions of a space may coexist and
``get_space(name)`` returns the newest, ``get_space("name@2")`` a given one.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pcsearch.catalogue import ALGORITHMS, TASKS
from search_spaces.errors import SearchSpaceError
from search_spaces.io import loads
from search_spaces.schema import SearchSpace

PAPER_PACKAGE = "search_spaces"
PAPER_DIR = "paper"

SMALL_TASKS = ("mlp-digits", "mlp-two-moons", "mlp-two-circles")
"""Bundled tasks too short for the paper's weight-lr bounds; their defaults are the
``discriminative-small-*`` spaces, which list exactly these tasks."""


@cache
def _spaces() -> dict[str, SearchSpace]:
    """Every shipped space by ``name@version``; read once per process."""
    spaces: dict[str, SearchSpace] = {}
    folder = resources.files(PAPER_PACKAGE) / PAPER_DIR
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        space = loads(entry.read_text(encoding="utf-8"), "json", origin=f"paper/{entry.name}")
        expected = f"{space.name}.v{space.version}.json"
        if entry.name != expected:
            raise SearchSpaceError(
                f"paper/{entry.name} holds {space.ref!r}; rename the file to {expected!r}"
            )
        spaces[space.ref] = space
    return spaces


def list_spaces() -> list[SearchSpace]:
    """All shipped spaces, sorted by name then version."""
    return sorted(_spaces().values(), key=lambda s: (s.name, s.version))


def get_space(name: str) -> SearchSpace:
    """The space called ``name`` (newest version) or ``name@version``."""
    spaces = _spaces()
    if "@" in name:
        if name in spaces:
            return spaces[name]
    else:
        versions = [s for s in spaces.values() if s.name == name]
        if versions:
            return max(versions, key=lambda s: s.version)
    raise SearchSpaceError(
        f"unknown search space {name!r}; choose one of: "
        f"{', '.join(sorted({s.name for s in spaces.values()}))} "
        f"(append @<version> for an older version)"
    )


def default_space(task: str, algorithm: str) -> SearchSpace:
    """The space a study of (task, algorithm) uses when none is named: the discriminative
    space of the algorithm's family, in its ``small`` variant for the bundled toy tasks;
    failing that (a task those do not list), the first Bayesian space that lists both, then
    the newest version of the first grid that does (associative memory: Appendix C.3)."""
    if task not in TASKS:
        raise SearchSpaceError(f"unknown task {task!r}; choose from: {', '.join(TASKS)}")
    info = ALGORITHMS.get(algorithm)
    if info is None or not info.implemented:
        available = ", ".join(n for n, a in ALGORITHMS.items() if a.implemented)
        raise SearchSpaceError(
            f"no default search space for algorithm {algorithm!r}: it is unknown or not "
            f"implemented; choose one of: {available}"
        )
    prefix = "discriminative-small" if task in SMALL_TASKS else "discriminative"
    preferred = f"{prefix}-{info.family}"  # none for MCPC: its space is Bayesian (Table 10)
    named = [get_space(preferred)] if any(s.name == preferred for s in list_spaces()) else []
    candidates = named + [s for s in list_spaces() if s.kind == "bayesian"]
    candidates += [get_space(n) for n in dict.fromkeys(s.name for s in list_spaces()
                                                      if s.kind == "grid")]  # fmt: skip
    for space in candidates:
        if space.matches_task(task) and algorithm in space.algorithms:
            space.check_for(task, algorithm)
            return space
    raise SearchSpaceError(
        f"no shipped search space covers task {task!r} with algorithm {algorithm!r}; "
        f"write one (see search_spaces.SearchSpace) and pass it explicitly"
    )
