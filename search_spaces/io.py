"""Search spaces as JSON or YAML text and files; parse errors become SearchSpaceError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml

from search_spaces.errors import SearchSpaceError
from search_spaces.schema import SearchSpace

Format = Literal["json", "yaml"]
SUFFIXES: dict[str, Format] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def format_of(path: str | Path) -> Format:
    """The format a file name implies; other suffixes are refused rather than guessed."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIXES[suffix]
    except KeyError:
        raise SearchSpaceError(
            f"cannot tell the format of {str(path)!r} from suffix {suffix!r}; name the file "
            f"with one of: {', '.join(SUFFIXES)}"
        ) from None


def dumps(space: SearchSpace, fmt: Format) -> str:
    """``space`` as JSON or YAML text (both keep the parameter order)."""
    if fmt == "json":
        return space.to_json()
    return yaml.safe_dump(space.to_dict(), sort_keys=False, allow_unicode=True)


def loads(text: str, fmt: Format, origin: str = "<text>") -> SearchSpace:
    """Parse and validate a space from JSON or YAML text."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise SearchSpaceError(f"{origin} is not valid {fmt.upper()}: {err}") from None
    try:
        return SearchSpace.from_dict(data)
    except SearchSpaceError as err:
        raise SearchSpaceError(f"{origin}: {err}") from None


def save(space: SearchSpace, path: str | Path) -> None:
    """Write ``space`` to a ``.json``, ``.yaml`` or ``.yml`` file."""
    Path(path).write_text(dumps(space, format_of(path)), encoding="utf-8")


def load(path: str | Path) -> SearchSpace:
    """Read a space from a ``.json``, ``.yaml`` or ``.yml`` file."""
    fmt = format_of(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise SearchSpaceError(f"cannot read search space file {str(path)!r}: {err}") from None
    except UnicodeDecodeError as err:
        raise SearchSpaceError(
            f"search space file {str(path)!r} is not UTF-8 text ({err.reason} at byte "
            f"{err.start}); save it as UTF-8"
        ) from None
    return loads(text, fmt, origin=str(path))
