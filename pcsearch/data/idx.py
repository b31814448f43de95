"""Reader for IDX files (the MNIST format), plain or gzip-compressed.

Every way a file can be damaged (a bad magic number, a short or overlong body, a broken
gzip stream) becomes a DataFormatError that names the file and says to fetch it again,
because a half-downloaded file is by far the most common cause.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from pcsearch.errors import DataFormatError

# IDX type codes -> big-endian numpy dtypes (http://yann.lecun.com/exdb/mnist/).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _fix_hint(path: str | Path) -> str:
    return (
        f"Delete {path} so that it is downloaded again, "
        "or replace it with a good copy of the standard file."
    )


def _bad(path: str | Path, problem: str) -> DataFormatError:
    return DataFormatError(f"{path}: {problem}. {_fix_hint(path)}")


def read_idx_bytes(path: str | Path) -> bytes:
    """Return the uncompressed content of an IDX file; `.gz` files are decompressed.

    Gzip damage (bad header, truncated stream, CRC mismatch) is reported as a
    DataFormatError rather than leaking gzip/zlib/EOF exceptions to the caller.
    """
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise _bad(
            path, f"expected a complete gzip stream, found a corrupt or truncated one ({err})"
        ) from err


def parse_idx(data: bytes, source: str | Path = "<bytes>") -> np.ndarray:
    """Parse IDX content into an array in native byte order; `source` names it in errors."""
    if len(data) < 4:
        raise _bad(source, f"expected at least a 4-byte IDX header, found {len(data)} bytes")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES or ndim == 0:
        codes = "/".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise _bad(
            source,
            "not an IDX file: expected magic bytes 0x00 0x00 <type " + codes + "> <ndim >= 1>, "
            f"found {' '.join(f'0x{b:02X}' for b in data[:4])}",
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise _bad(
            source,
            f"truncated IDX header: expected {header_len} bytes for {ndim} dimensions, "
            f"found {len(data)} bytes",
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected_items = math.prod(dims)
    expected_bytes = header_len + expected_items * dtype.itemsize
    if len(data) != expected_bytes:
        found_items = (len(data) - header_len) / dtype.itemsize
        kind = "truncated" if len(data) < expected_bytes else "overlong"
        raise _bad(
            source,
            f"{kind} IDX body: dimensions {dims} need {expected_items} items "
            f"({expected_bytes} bytes in all), found {found_items:g} items "
            f"({len(data)} bytes in all)",
        )
    arr = np.frombuffer(data, dtype=dtype, count=expected_items, offset=header_len)
    return arr.reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (`.gz` or plain) and check its magic number and size.

    The result may be a read-only view of the file's bytes (uint8 needs no copy); copy it
    before writing to it.
    """
    return parse_idx(read_idx_bytes(path), source=path)
