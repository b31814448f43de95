"""The paper's best hyperparameters, as data: ``paper_best.json`` beside this file.

Each entry names the (task, algorithm), the values and their source (a key of the file's
``sources``: the reference table or the config of the paper's code they came from), and
where that source is a folder of the code's files, the ``file`` itself.
``without_best`` lists the paper's tasks that have no values, and why. ``pcsearch.params``
applies them (the third layer of ``resolve``) and checks them against the catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pcsearch.errors import RegistryError

FILE = "paper_best.json"


@dataclass(frozen=True)
class PaperValues:
    task: str
    algorithm: str
    values: dict[str, Any]
    source: str
    """Where the values come from, in words (the file's ``sources`` entry)."""
    note: str | None = None
    file: str | None = None
    """The file of the paper's code the values were read from, where the source is a
    folder of such files (e.g. ``pcx-hps``)."""


def _load() -> tuple[dict[tuple[str, str], PaperValues], dict[str, str]]:
    data = json.loads(resources.files(__package__).joinpath(FILE).read_text(encoding="utf-8"))
    sources: dict[str, str] = data["sources"]
    entries: dict[tuple[str, str], PaperValues] = {}
    for entry in data["best"]:
        key = (entry["task"], entry["algorithm"])
        if key in entries:
            raise RegistryError(f"{FILE}: {key} is listed twice; keep one entry")
        if entry["source"] not in sources:
            raise RegistryError(
                f"{FILE}: {key} names source {entry['source']!r}; add it to 'sources' "
                f"or choose one of: {', '.join(sources)}"
            )
        entries[key] = PaperValues(
            *key,
            dict(entry["values"]),
            sources[entry["source"]],
            entry.get("note"),
            entry.get("file"),
        )
    without = {e["task"]: e["why"] for e in data["without_best"]}
    return entries, without


PAPER_VALUES, WITHOUT_BEST = _load()
"""(task, algorithm) -> its entry; and task -> why the paper gives it no values."""
