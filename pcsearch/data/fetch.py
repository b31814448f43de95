"""Data sets onto a machine ahead of time: fetch where there is internet, verify where not.

GPU nodes often have no internet, so a loader's own download-when-missing cannot help
there. ``fetch`` downloads a data set's missing or damaged files (checksummed, atomic) into
the data folder on a machine that is online; after the folder is copied to the node,
``verify`` says per file whether it is there and matches its published checksums (md5, and
sha256 where recorded), without downloading anything. A file with no recorded checksum is
never downloaded: its fix says where to get it by hand. The files, URLs and checksums are
the loaders' own (``pcsearch.data.datasets.FILES``), never a second list.

A file counts as there when the loader would not need it: the file itself, or an entry the
loader reads in its place (an extracted folder, a cache it wrote), which is not checksummed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pcsearch.data.datasets import FILES, default_data_dir, load_dataset
from pcsearch.data.download import DEFAULT_TIMEOUT_S, DataFile, DataFiles, download, file_digest
from pcsearch.errors import DataFormatError, DataUnavailableError, UnknownNameError

Status = Literal["present", "downloaded", "missing", "corrupt", "failed"]
"""present and downloaded: usable; missing and corrupt (``verify``), failed (``fetch``): not."""

BUNDLED = "made by scikit-learn on the fly, no files needed"


@dataclass(frozen=True)
class FileReport:
    """One file of a data set: where it goes, what was found or done, and the fix if any."""

    path: Path
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status in ("present", "downloaded")


def data_files(name: str) -> DataFiles | None:
    """The files data set ``name`` reads; None for a set that needs none (scikit-learn's)."""
    if name not in FILES:
        raise UnknownNameError(f"unknown dataset {name!r}; choose one of: {', '.join(FILES)}")
    source = FILES[name]
    return source() if source is not None else None


def verify(name: str, data_dir: str | Path | None = None) -> list[FileReport]:
    """Check the files of ``name`` in ``data_dir`` (default: the configured data folder)
    against their published checksums, downloading nothing; [] for a set that needs no file."""
    files = data_files(name)
    if files is None:
        return []
    folder = _root(data_dir) / files.folder
    return _readable(name, data_dir, [_inspect(name, files, folder, f) for f in files.files])


def _readable(
    name: str, data_dir: str | Path | None, reports: list[FileReport]
) -> list[FileReport]:
    """A file whose checksum differs is still usable when the loader reads it (a copy that was
    recompressed, as some mirrors ship MNIST): try the loader once, but only when nothing is
    missing, so that it downloads nothing."""
    if not any(r.status == "corrupt" for r in reports) or any(
        r.status == "missing" for r in reports
    ):
        return reports
    try:
        load_dataset(name, data_dir)
    except Exception:  # noqa: BLE001 - any failure to read leaves the checksum verdict standing
        return reports
    note = "checksum differs from the published file, but pcsearch reads it correctly"
    return [FileReport(r.path, "present", note) if r.status == "corrupt" else r for r in reports]


def fetch(
    name: str, data_dir: str | Path | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
) -> list[FileReport]:
    """Download the files of ``name`` that are missing or fail their checksum into ``data_dir``
    (default: the configured data folder); files already there and valid are kept as they
    are. A file that cannot be fetched is reported as failed with its fix, not raised."""
    files = data_files(name)
    if files is None:
        return []
    folder = _root(data_dir) / files.folder
    found = _readable(name, data_dir, [_inspect(name, files, folder, f) for f in files.files])
    return [
        r if r.ok else _fetch_one(name, files, folder, f, timeout)
        for r, f in zip(found, files.files, strict=True)
    ]


def _root(data_dir: str | Path | None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def _how_to_get(name: str, folder: Path, file: DataFile) -> str:
    alternatives = f" (or {' or '.join(file.instead)}, read in its place)" if file.instead else ""
    return (
        f"run `pcsearch data fetch {name}` on a machine with internet and copy its "
        f"{folder.name}/ folder here, or copy {file.name}{alternatives} into {folder} by hand"
    )


def _inspect(name: str, files: DataFiles, folder: Path, file: DataFile) -> FileReport:
    """What is on disk for ``file``: present (checksum right, or none published), corrupt or
    missing, with the fix."""
    path = folder / file.name
    if path.is_file():
        expected = file.checksums
        if not expected:
            return FileReport(path, "present", "no published checksum to compare")
        try:
            found = {k: file_digest(path, k) for k in expected}
        except OSError as err:  # e.g. copied in without read permission
            return FileReport(path, "corrupt", f"cannot be read ({err}); fix its permissions")
        if found == expected:
            return FileReport(path, "present", _matches(expected))
        wrong = "; ".join(
            f"{k} {found[k]}, expected {v}" for k, v in expected.items() if found[k] != v
        )
        return FileReport(
            path,
            "corrupt",
            f"{wrong}: damaged or not the published file. "
            f"To fix, delete it, then {_how_to_get(name, folder, file)}",
        )
    for other in file.instead:
        if (folder / other).exists():
            return FileReport(path, "present", f"not needed: {other} is there and read instead")
    fix = files.manual(folder) if files.manual else f"to fix, {_how_to_get(name, folder, file)}"
    return FileReport(path, "missing", fix)


def _fetch_one(
    name: str, files: DataFiles, folder: Path, file: DataFile, timeout: float
) -> FileReport:
    found = _inspect(name, files, folder, file)
    if found.ok:
        return found
    if not file.urls:
        return FileReport(found.path, "failed", found.detail)
    refused = file.unverified(folder)
    if refused is not None:
        return FileReport(found.path, "failed", refused)
    hint = f"To fix, {_how_to_get(name, folder, file)}."
    try:
        path = download(
            file.urls, found.path, md5=file.md5, sha256=file.sha256, timeout=timeout, hint=hint
        )
    except (DataUnavailableError, DataFormatError) as err:
        kept = " (the damaged copy is still there)" if found.status == "corrupt" else ""
        return FileReport(found.path, "failed", f"{err}{kept}")
    except OSError as err:  # e.g. the folder is not writable
        return FileReport(
            found.path, "failed", f"cannot save {file.name} into {folder}: {err}. {hint}"
        )
    replaced = ", replacing a copy with the wrong checksum" if found.status == "corrupt" else ""
    size = path.stat().st_size
    return FileReport(path, "downloaded", f"{size} bytes, {_matches(file.checksums)}{replaced}")


def _matches(checksums: dict[str, str]) -> str:
    """``md5 matches`` or ``md5 and sha256 match``."""
    return f"{' and '.join(checksums)} {'match' if len(checksums) > 1 else 'matches'}"
