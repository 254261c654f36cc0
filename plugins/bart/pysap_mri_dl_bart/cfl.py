"""BART's file format: ``NAME.hdr`` (a text header with the dimensions) and ``NAME.cfl``
(the complex64 data in column-major order)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["read_cfl", "write_cfl", "CflError"]


BART_DIMS = 16
"""The number of dimensions BART's arrays have (its DIMS)."""


class CflError(ValueError):
    """A missing, truncated or malformed .cfl/.hdr pair."""


def _stem(path):
    path = str(path)
    for suffix in (".cfl", ".hdr"):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def read_cfl(path):
    """Read ``path.hdr`` + ``path.cfl`` into a complex64 array (trailing singleton
    dimensions beyond the first non-trivial ones are kept as BART writes them)."""
    stem = _stem(path)
    header, data = Path(stem + ".hdr"), Path(stem + ".cfl")
    if not header.is_file() or not data.is_file():
        raise CflError(f"{stem}: expected both {header.name} and {data.name}")
    try:
        text = header.read_text()
    except UnicodeDecodeError:
        raise CflError(f"{header}: not a text header (not UTF-8)") from None
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    try:
        dims = [int(d) for d in lines[0].split()]
    except (IndexError, ValueError):
        raise CflError(f"{header}: malformed header (expected a line of dimensions)") from None
    if not dims or any(d < 1 for d in dims):
        raise CflError(f"{header}: invalid dimensions {dims}")
    expected = int(np.prod(dims)) * 8
    if data.stat().st_size != expected:
        raise CflError(f"{data}: {data.stat().st_size} bytes, expected {expected} for "
                       f"dimensions {dims} (truncated or not complex64)")
    return np.fromfile(data, dtype=np.complex64).reshape(dims, order="F")


def write_cfl(path, array):
    """Write ``array`` as ``path.hdr`` + ``path.cfl`` (complex64, column-major), each file
    written to a temporary name first and renamed, so no half-written pair is left."""
    stem = _stem(path)
    array = np.asarray(array)
    if not np.all(np.isfinite(array)):
        raise CflError(f"{stem}: array contains NaN or Inf values")
    if array.ndim == 0:  # BART has no 0-d arrays: one element in one dimension
        array = array.reshape(1)
    if array.size == 0 or array.ndim > BART_DIMS:
        raise CflError(f"{stem}: BART holds arrays of 1 to {BART_DIMS} dimensions of sizes "
                       f">= 1, received shape {array.shape}")
    array = array.astype(np.complex64)
    dims = " ".join(str(d) for d in array.shape)
    for suffix, write in ((".cfl", lambda f: array.ravel(order="F").tofile(f)),
                          (".hdr", lambda f: Path(f).write_text(f"# Dimensions\n{dims}\n"))):
        temporary = stem + suffix + ".part"
        try:
            write(temporary)
            os.replace(temporary, stem + suffix)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
