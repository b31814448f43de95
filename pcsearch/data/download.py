"""Atomic, checksummed downloads from a list of mirrors, with the standard library only.

The file appears under its final name only once its checksum is right, so a crash, a
dropped connection or a bad mirror never leaves a half-written file that a later run
would trust. Two processes downloading the same file at once is also safe: each writes
its own temporary file and the last rename wins with identical bytes.

``DataFile`` and ``DataFiles`` describe what each loader reads and where it comes from;
every loader module builds them from its own constants, and both the loader (downloading
what is missing) and ``pcsearch.data.fetch`` (``pcsearch data fetch`` / ``check``) read
them, so each file, URL and checksum is written down once.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from pcsearch.errors import DataFormatError, DataUnavailableError

DEFAULT_TIMEOUT_S = 20.0
"""Per-connection and per-read timeout: an offline machine should fail fast, not hang."""

_CHUNK = 1 << 16
_USER_AGENT = "pcsearch-data/0.1 (+urllib)"
_NETWORK_ERRORS = (URLError, OSError, http.client.HTTPException)


@dataclass(frozen=True)
class DataFile:
    """One file a loader reads from its data set's folder, and where to get it.

    ``urls`` are tried in order; empty when it cannot be downloaded (CelebA's Google Drive).
    ``md5`` is the published checksum, None when there is none; ``sha256``, where one is
    published too, is checked beside it. A file with neither is never downloaded (see
    ``unverified``). ``instead`` names entries of the same folder that the loader reads in
    this file's place when present (an extracted folder, a cache it wrote), so with one of
    them there the file is not needed.
    """

    name: str
    urls: tuple[str, ...] = ()
    md5: str | None = None
    instead: tuple[str, ...] = ()
    sha256: str | None = None

    @property
    def checksums(self) -> dict[str, str]:
        """Algorithm -> expected hex digest, for every published checksum."""
        return {k: v.lower() for k, v in (("md5", self.md5), ("sha256", self.sha256)) if v}

    def unverified(self, folder: Path) -> str | None:
        """Why this file must not be downloaded (it has URLs but no checksum to verify the
        bytes against), with the fix; None when it may be."""
        if not self.urls or self.checksums:
            return None
        return (
            f"{self.name} has no published checksum recorded in pcsearch, so it is not "
            f"downloaded unverified. To fix, download it yourself from {self.urls[0]}, check "
            f"that it is the file you expect, and copy it into {folder}"
        )


@dataclass(frozen=True)
class DataFiles:
    """The files one data set reads, in ``<data_dir>/<folder>/``.

    ``manual``: for files that cannot be downloaded, the step that gets them by hand, given
    the folder they go in (a sentence starting "it cannot be downloaded ...").
    """

    folder: str
    files: tuple[DataFile, ...]
    manual: Callable[[Path], str] | None = None


class _Unreachable(Exception):
    """A mirror that could not be reached or stopped answering part way."""


def _reason(err: BaseException) -> str:
    if isinstance(err, HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, URLError):
        return str(err.reason)
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _fetch(url: str, out: BinaryIO, hashers: list, timeout: float) -> None:
    """Stream `url` into `out`; network failures become _Unreachable, local ones propagate."""
    try:
        resp = urlopen(Request(url, headers={"User-Agent": _USER_AGENT}), timeout=timeout)
    except _NETWORK_ERRORS as err:
        raise _Unreachable(_reason(err)) from err
    with resp:
        while True:
            try:
                chunk = resp.read(_CHUNK)
            except _NETWORK_ERRORS as err:
                raise _Unreachable(_reason(err)) from err
            if not chunk:
                return
            out.write(chunk)
            for h in hashers:
                h.update(chunk)


def file_digest(path: str | Path, algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes, read in chunks so big files need little memory."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(
    urls: Sequence[str],
    dest: str | Path,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    hint: str | None = None,
) -> Path:
    """Download the first URL that answers to `dest`, atomically and checksum-verified.

    Mirrors are tried in order; one that cannot be reached or serves bytes with the wrong
    checksum is skipped. Raises DataFormatError when at least one mirror answered but none
    served the expected bytes, and DataUnavailableError when none could be reached (e.g.
    offline). Either way nothing is left at `dest` or beside it. `hint` ends the offline
    message with how to get the file some other way (default: copy it there by hand).
    """
    if not urls:
        raise ValueError("download() needs at least one URL")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected = {k: v.lower() for k, v in (("md5", md5), ("sha256", sha256)) if v}
    unreachable: list[str] = []
    mismatched: list[str] = []
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    saved = False
    try:
        with os.fdopen(fd, "wb") as out:
            for url in urls:
                out.seek(0)
                out.truncate()
                hashers = [hashlib.new(k) for k in expected]
                try:
                    _fetch(url, out, hashers, timeout)
                except _Unreachable as err:
                    unreachable.append(f"{url} ({err})")
                    continue
                found = {h.name: h.hexdigest() for h in hashers}
                if found == expected:
                    out.flush()
                    os.fsync(out.fileno())
                    saved = True
                    break
                mismatched.append(
                    f"{url} served {out.tell()} bytes with "
                    + ", ".join(f"{k} {found[k]} (expected {v})" for k, v in expected.items())
                )
        if not saved:
            tried = "; ".join(mismatched + unreachable)
            if mismatched:
                raise DataFormatError(
                    f"download of {dest.name} into {dest.parent} failed its checksum: {tried}. "
                    f"Nothing was saved. Try again later, or copy a good {dest.name} into "
                    f"{dest.parent} by hand."
                )
            raise DataUnavailableError(
                f"cannot download {dest.name} into {dest.parent}; no mirror delivered it "
                f"(is this machine offline?): {tried}. "
                + (hint or f"Copy {dest.name} into {dest.parent} by hand.")
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
